import Crypto
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Checks a plugin file and says where dlopen maps it from: a copy of the bytes it checked, in
/// this process's private folder, or, for a shipped plugin's first load, the file itself.
enum PluginStaging {
    struct Staged {
        let path: String
        /// Lowercase hex, computed only when some engine is pinned.
        let sha256: String?
        /// A copy, to unlink once it is mapped.
        let isCopy: Bool
    }

    /// Files mapped from their own path. dlopen answers a path it has mapped with the handle it
    /// already has, so a second load of one of these (a new version) must come from a copy.
    private static let mappedInPlace = Mutex<Set<String>>([])

    /// Made with mkdtemp (mode 0700, a name nobody can predict) on first use, under $TMPDIR;
    /// removed when the process exits. Never reused: each process gets a new one.
    static let folder: Result<String, PluginRefusal> = {
        var template = Array("\(NSTemporaryDirectory())/switchboard-plugins-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            return .failure(PluginRefusal("cannot make a private staging folder: \(String(cString: strerror(errno)))"))
        }
        let path = String(cString: made)
        stagingFolderToRemove = strdup(path)
        atexit { removeStagingFolder() }
        return .success(path)
    }()

    private static let counter = SerialNumbers()

    /// - Parameter inPlace: map the file itself when nothing else was mapped from its path and no
    ///   engine is pinned. Copying the two 60 MB plugins carrying an HTTP stack was most of the
    ///   server's start-up; the copy's guarantees (the bytes checked are the bytes mapped, and
    ///   overwriting the file in place leaves the mapping intact) matter for files anyone may
    ///   drop in, not for the ones built and installed with the server, which builds and
    ///   packages replace by renaming.
    static func stage(_ path: String, trust: PluginTrust, inPlace: Bool = false) throws(PluginRefusal) -> Staged {
        let source = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard source >= 0 else { throw PluginRefusal("cannot open file for reading: \(String(cString: strerror(errno)))") }
        defer { close(source) }
        var info = stat()
        guard fstat(source, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { throw PluginRefusal("not a regular file") }
        if !trust.allowUnsafePermissions {
            try checkTrusted(info, what: "file")
            let folder = (resolvedPath(path) as NSString).deletingLastPathComponent
            var folderInfo = stat()
            guard stat(folder, &folderInfo) == 0 else { throw PluginRefusal("cannot read its folder \(folder)") }
            try checkTrusted(folderInfo, what: "folder \(folder)")
        }
        try checkIsSharedObject(source)
        if inPlace, trust.pinnedSHA256.isEmpty, mappedInPlace.withLock({ $0.insert(path).inserted }) {
            return Staged(path: path, sha256: nil, isCopy: false)
        }

        let target = "\(try folder.get())/\(counter.next())-\((path as NSString).lastPathComponent)"
        let copy = Glibc.open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o500)
        guard copy >= 0 else { throw PluginRefusal("cannot copy plugin to the staging folder: \(String(cString: strerror(errno)))") }
        defer { close(copy) }
        var hash = trust.pinnedSHA256.isEmpty ? nil : SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var offset: off_t = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(source, $0.baseAddress, $0.count, offset) }
            guard count >= 0 else { unlink(target); throw PluginRefusal("cannot read the file: \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            offset += off_t(count)
            hash?.update(data: buffer[0..<count])
            let written = buffer.withUnsafeBytes { write(copy, $0.baseAddress, count) }
            guard written == count else { unlink(target); throw PluginRefusal("cannot copy plugin to the staging folder: short write") }
        }
        return Staged(path: target, sha256: hash.map { $0.finalize().map { String(format: "%02x", $0) }.joined() }, isCopy: true)
    }

    /// OpenSSH's StrictModes rule: owned by this user or root, and writable by nobody else.
    private static func checkTrusted(_ info: stat, what: String) throws(PluginRefusal) {
        let hint = "fix the permissions, or start the server with --allow-unsafe-plugin-permissions (development only)"
        guard info.st_uid == geteuid() || info.st_uid == 0 else {
            throw PluginRefusal("unsafe plugin \(what): owned by uid \(info.st_uid), neither this user (\(geteuid())) nor root; \(hint)")
        }
        guard info.st_mode & (S_IWGRP | S_IWOTH) == 0 else {
            throw PluginRefusal("unsafe plugin \(what): writable by group or others (mode \(String(info.st_mode & 0o7777, radix: 8))); \(hint)")
        }
    }

    private static func resolvedPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Reads the ELF header so a stray file gets a clear reason rather than dlopen's.
    private static func checkIsSharedObject(_ file: Int32) throws(PluginRefusal) {
        var header = [UInt8](repeating: 0, count: 18)
        let count = header.withUnsafeMutableBytes { pread(file, $0.baseAddress, 18, 0) }
        guard count == 18, header.starts(with: [0x7F, 0x45, 0x4C, 0x46]) else {
            throw PluginRefusal("not a shared object: no ELF header")
        }
        let littleEndian = header[5] == 1
        let type = littleEndian ? UInt16(header[16]) | UInt16(header[17]) << 8 : UInt16(header[16]) << 8 | UInt16(header[17])
        guard type == 3 else { throw PluginRefusal("not a shared object: ELF type \(type), expected ET_DYN (3)") }
    }
}

/// The staging folder, for the exit handler (a C function pointer, which captures nothing).
nonisolated(unsafe) private var stagingFolderToRemove: UnsafeMutablePointer<CChar>?

private func removeStagingFolder() {
    guard let folder = stagingFolderToRemove else { return }
    // Copies are unlinked right after dlopen; one a crash interrupted may remain.
    if let entries = opendir(folder) {
        while let entry = readdir(entries) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != ".", name != ".." { unlink("\(String(cString: folder))/\(name)") }
        }
        closedir(entries)
    }
    rmdir(folder)
}
