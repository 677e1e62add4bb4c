import Foundation
import Hummingbird

/// The ceiling of our HTTP stack: Hummingbird answering `GET /api/contacts` with a constant body
/// (the bytes Switchboard answers for the same contact), with no session, engine or JSON
/// encoding in the way.
///
/// Usage: BareHummingbird <port> <file holding the body>
@main
struct BareHummingbird {
    static func main() async throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 3, let port = Int(arguments[1]), let body = FileManager.default.contents(atPath: arguments[2]) else {
            print("usage: BareHummingbird <port> <body file>")
            exit(64)
        }
        let router = Router()
        router.get("/api/contacts") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await app.runService()
    }
}
