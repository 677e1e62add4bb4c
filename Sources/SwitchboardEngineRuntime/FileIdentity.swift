#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file as `stat` sees it now: a file replaced (a new inode), rewritten in place (size or time)
/// or moved in from elsewhere (device) is another file, whatever its path. The registry and the
/// scanner's cache both tell a plugin they read before from one to read again by it.
public struct FileIdentity: Codable, Hashable, Sendable {
    public let device: UInt64, inode: UInt64, size: Int64
    /// Modification time in nanoseconds.
    public let modified: Int64

    public init(device: UInt64, inode: UInt64, size: Int64, modified: Int64) {
        (self.device, self.inode, self.size, self.modified) = (device, inode, size, modified)
    }

    /// nil when there is no such file.
    public init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        #if os(Linux)
        let modified = info.st_mtim
        #else
        let modified = info.st_mtimespec
        #endif
        self.init(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modified: Int64(modified.tv_sec) * 1_000_000_000 + Int64(modified.tv_nsec))
    }

    /// What a file that is gone is remembered as.
    public static let missing = FileIdentity(device: 0, inode: 0, size: -1, modified: 0)
}
