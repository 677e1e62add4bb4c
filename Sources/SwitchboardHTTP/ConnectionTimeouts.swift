import Hummingbird
import HummingbirdCore
import NIOCore
import SwitchboardEngineRuntime

/// How long a connection may sit without a request in progress before the server closes it.
/// Hummingbird counts a connection idle from when it opens, and again from the end of each
/// answer, until a request head is complete: so one limit closes both a connection that never
/// finishes its request head (slowloris) and a kept-alive connection nobody uses.
public struct ConnectionTimeouts: Sendable {
    /// Default 30 s: long enough for a human typing into `nc`, short enough that a few hundred
    /// stalled connections do not pile up.
    public static let defaultIdle: Duration = .seconds(30)

    public var idle: Duration

    public init(idle: Duration = ConnectionTimeouts.defaultIdle) {
        self.idle = idle
    }

    /// Hummingbird's HTTP/1.1 channel with these timeouts, `HeaderLimit` and the handler that
    /// answers heads over it.
    var channelConfiguration: HTTP1Channel.Configuration {
        HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestHeadErrorHandler()],
            idleTimeout: .nanoseconds(idle.nanoseconds),
            httpDecoderConfiguration: .init(maxHeaderFieldSize: HeaderLimit.maxBytes, maxHeaderListSize: HeaderLimit.maxBytes))
    }
}
