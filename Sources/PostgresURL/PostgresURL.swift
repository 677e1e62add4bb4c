import Foundation
import PostgresNIO

/// A PostgreSQL URL as an operator writes it, `postgres://user[:password]@host[:port]/database`
/// (TLS only with `?sslmode=require`), read the one way both the shared session store and the
/// `local` engine on PostgreSQL read it.
public enum PostgresURL {
    public struct Invalid: Error, CustomStringConvertible {
        public let url: String
        public var description: String { "not a PostgreSQL URL (postgres://user[:password]@host[:port]/database): \(url)" }
    }

    public static func configuration(_ url: String) throws(Invalid) -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme),
              let host = components.host, !host.isEmpty, let user = components.user, !user.isEmpty else {
            throw Invalid(url: url)
        }
        let database = String(components.path.drop { $0 == "/" })
        let sslMode = components.queryItems?.first { $0.name == "sslmode" }?.value
        let tls: PostgresClient.Configuration.TLS = sslMode == "require" ? .require(.makeClientConfiguration()) : .disable
        return PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: components.password,
            database: database.isEmpty ? nil : database, tls: tls)
    }
}
