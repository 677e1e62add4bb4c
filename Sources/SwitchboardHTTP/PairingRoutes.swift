import Hummingbird
import SwitchboardSessions

/// WAHA's pairing routes (a QR code or a code to link a WhatsApp account). No session here is
/// ever waiting to be paired, so both answer what WAHA answers a session that is not in
/// `SCAN_QR_CODE`: 422 with its status and the one expected. Served so that clients that ask
/// (kctl-waha's `sessions qr` and `sessions pair`) hear why, not a 404.
enum PairingRoutes {
    static var all: [APIRoute] {
        [
            APIRoute(
                .get, "/api/{session}/auth/qr", "AuthController_getQR", tag: .pairing,
                summary: "QR code for pairing: none, no session here waits to be paired",
                parameters: [.sessionPath, .query("format", .stringEnum(["image", "raw"]), "image or raw; image when omitted")],
                success: .json(.reference("QRCodeValue")), errors: [.sessionUnavailable]
            ) { _, context throws(APIError) in
                _ = try context.query.oneOf("format", Format.self)
                throw notPairing(try context.session(context.path("session")))
            },
            APIRoute(
                .post, "/api/{session}/auth/request-code", "AuthController_requestCode", tag: .pairing,
                summary: "Pairing code: none, no session here waits to be paired",
                parameters: [.sessionPath], body: .json(.reference("RequestCodeRequest")), success: .json(.reference("Result"), status: 201),
                errors: [.sessionUnavailable]
            ) { request, context throws(APIError) in
                let session = try context.session(context.path("session"))
                _ = try await context.decode(RequestCode.self, from: request)
                throw notPairing(session)
            },
        ]
    }

    enum Format: String, CaseIterable { case image, raw }

    struct RequestCode: Decodable {
        var phoneNumber: String
        var method: String?
    }

    static func notPairing(_ session: Session) -> APIError {
        let text = "Session status is not as expected. No Switchboard session is paired with WhatsApp: there is no QR code or pairing code."
        return APIError(.unprocessableContent, text, error: text, context: [
            "session": .string(session.name), "status": .string(session.status.rawValue), "expected": ["SCAN_QR_CODE"],
        ])
    }
}
