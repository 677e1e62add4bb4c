import Foundation
import Glibc

/// A port on 127.0.0.1 where nothing listens, held bound for as long as this object lives, so a
/// connection to it is refused. A port that is only free (`TestPlugins.freePort()`) can be
/// handed by the kernel to a test's own outgoing connection as its source port, and a
/// connection from that port to itself then succeeds (TCP self-connect) and hangs instead of
/// being refused; a bound port is never given out that way.
public final class RefusingPort: @unchecked Sendable {
    private let descriptor: Int32
    public let port: Int

    public init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(try TestPlugins.freePort()).bigEndian
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard descriptor >= 0, bound else { throw TestPlugins.CommandFailed(command: "bind 127.0.0.1", status: errno, output: "") }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    deinit { _ = Glibc.close(descriptor) }
}
