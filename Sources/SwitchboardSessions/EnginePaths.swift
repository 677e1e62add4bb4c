import ContactsEngineKit
import Foundation
import SwitchboardEngineRuntime

/// Where an engine configuration may point. A session's `engineConfig` comes from API clients,
/// and engines open what it names (a SQLite file, a folder of vCards, a CA certificate), so the
/// host refuses any path in it that leads outside the allowed folders: the data folder, and those
/// the operator adds with `--engine-paths`.
///
/// The host does not know each engine's keys, so it reads every string in the configuration:
/// one that is absolute (`/…`), home-relative (`~…`) or a `file:` URI is a path and must lie
/// inside an allowed folder once symbolic links are resolved; a `..` component is refused
/// anywhere, since the folder it is relative to is the engine's business. Relative paths without
/// `..` stay inside the engine's state folder, which is inside the data folder.
public struct EnginePathPolicy: Sendable {
    /// nil: any path (for tools and tests that run no server).
    let allowedFolders: [String]?

    public static let unconfined = EnginePathPolicy(allowedFolders: nil)

    public static func confined(to folders: [String]) -> EnginePathPolicy {
        EnginePathPolicy(allowedFolders: folders.map(Self.resolved))
    }

    /// Refuses the first path in `configuration` that leads outside the allowed folders.
    public func check(_ configuration: Data) throws(EngineError) {
        guard let allowedFolders, !configuration.isEmpty,
              let json = try? JSONSerialization.jsonObject(with: configuration, options: [.fragmentsAllowed])
        else { return }
        try check(json, at: "engineConfig", allowedFolders)
    }

    private func check(_ value: Any, at key: String, _ allowed: [String]) throws(EngineError) {
        switch value {
        case let object as [String: Any]:
            for (name, member) in object.sorted(by: { $0.key < $1.key }) { try check(member, at: "\(key).\(name)", allowed) }
        case let array as [Any]:
            for (index, member) in array.enumerated() { try check(member, at: "\(key)[\(index)]", allowed) }
        case let text as String:
            try checkString(text, at: key, allowed)
        default:
            return
        }
    }

    private func checkString(_ text: String, at key: String, _ allowed: [String]) throws(EngineError) {
        let isURL = text.contains("://") && !text.lowercased().hasPrefix("file:")
        guard !isURL else { return }
        let hint = "engine paths must lie inside \(allowed.joined(separator: " or ")); the operator may allow more with --engine-paths DIR"
        if text.split(separator: "/", omittingEmptySubsequences: false).contains("..") {
            throw EngineError(.invalidInput, "\(key): \"\(text)\" has a '..' component; \(hint)")
        }
        var path = text
        if path.lowercased().hasPrefix("file:") {
            path = String(path.dropFirst(5))
            if path.hasPrefix("//") { path = "/" + path.drop { $0 == "/" } }
            path = String(path.prefix { $0 != "?" && $0 != "#" })
            guard path.hasPrefix("/") else { throw EngineError(.invalidInput, "\(key): \"\(text)\" is a relative file: URI; \(hint)") }
        } else if path.hasPrefix("~") {
            path = (path as NSString).expandingTildeInPath
        } else if !path.hasPrefix("/") {
            return
        }
        let target = Self.resolved(path)
        guard allowed.contains(where: { target == $0 || target.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) else {
            throw EngineError(.invalidInput, "\(key): \(text) is outside the allowed folders; \(hint)")
        }
    }

    /// The absolute path with symbolic links resolved as far as the path exists.
    static func resolved(_ path: String) -> String {
        var existing = URL(fileURLWithPath: path).standardizedFileURL
        var rest: [String] = []
        while !FileManager.default.fileExists(atPath: existing.path), existing.path != "/" {
            rest.insert(existing.lastPathComponent, at: 0)
            existing.deleteLastPathComponent()
        }
        var resolved = existing.resolvingSymlinksInPath()
        for component in rest { resolved.appendPathComponent(component) }
        return resolved.path
    }
}
