import CContactsEngine
import ContactsEngineKit
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Why a plugin file was not loaded; `reason` is shown to operators as is.
public struct PluginRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// A descriptor pointer from a mapped plugin. Plugins are never unmapped, so it stays valid.
struct DescriptorPointer: @unchecked Sendable {
    typealias CallSignal = @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Void

    let pointer: UnsafePointer<sb_engine_descriptor>

    /// ABI 1.1's optional `cancel`; `nil` for a 1.0 plugin or one that does not support it.
    var cancel: CallSignal? {
        pointer.pointee.covers(\.cancel) ? pointer.pointee.cancel : nil
    }

    typealias CallInPieces = @convention(c) (
        OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<UInt8>?, Int, sb_piece_sink?, sb_completion?, UnsafeMutableRawPointer?
    ) -> Void

    /// ABI 1.2's optional `call_in_pieces` with its `resume`; `nil` unless the plugin gives both.
    var callInPieces: (call: CallInPieces, resume: CallSignal)? {
        guard pointer.pointee.covers(\.resume), let call = pointer.pointee.call_in_pieces, let resume = pointer.pointee.resume else { return nil }
        return (call, resume)
    }
}

/// What the loader demands of a plugin file before it maps it.
public struct PluginTrust: Sendable, Hashable {
    /// Accepts files and folders that others may write to, or that another user owns.
    public var allowUnsafePermissions: Bool
    /// SHA-256 (lowercase hex) each named engine's file must have.
    public var pinnedSHA256: [String: String]

    public init(allowUnsafePermissions: Bool = false, pinnedSHA256: [String: String] = [:]) {
        self.allowUnsafePermissions = allowUnsafePermissions
        self.pinnedSHA256 = pinnedSHA256
    }
}

/// Opens plugin files and checks their handshake. Never unloads anything: see `open(_:trust:)`.
public enum PluginLoader {
    public static let entrySymbol = SB_ENTRY_SYMBOL
    public static let abiMajor = UInt32(SB_ABI_VERSION_MAJOR)
    public static let abiMinor = UInt32(SB_ABI_VERSION_MINOR)

    /// Opens the plugin at `path` and validates its descriptor.
    ///
    /// The file is opened once; its owner and permissions are checked on that descriptor, and the
    /// bytes read from it are what is copied to a private folder of this process (0700, made with
    /// mkdtemp) and mapped, so replacing the file between the checks and dlopen changes nothing.
    /// The copy also gives each version of a plugin a mapping of its own (dlopen returns the
    /// existing handle for a path it knows), and overwriting the original in place cannot corrupt
    /// the mapped copy.
    ///
    /// Opened with RTLD_NODELETE and never dlclose'd: the Swift runtime keeps pointers into a
    /// loaded Swift library (type metadata and conformance caches), so unmapping it crashes the
    /// host later. A refused plugin stays mapped too; that costs address space, not safety.
    ///
    /// `inPlace` maps a shipped plugin from its own path the first time (`PluginStaging`).
    static func open(_ path: String, trust: PluginTrust = PluginTrust(), inPlace: Bool = false) throws(PluginRefusal) -> (DescriptorPointer, EngineMetadata) {
        let opened = try openStaged(path, trust: trust, inPlace: inPlace)
        return (opened.descriptor, opened.scanned.metadata)
    }

    /// The metadata and, when some engine is pinned, the SHA-256 of the bytes that were mapped.
    public static func scan(_ path: String, trust: PluginTrust = PluginTrust()) throws(PluginRefusal) -> ScannedPlugin {
        try openStaged(path, trust: trust).scanned
    }

    private static func openStaged(
        _ path: String, trust: PluginTrust, inPlace: Bool = false
    ) throws(PluginRefusal) -> (descriptor: DescriptorPointer, scanned: ScannedPlugin) {
        let staged = try PluginStaging.stage(path, trust: trust, inPlace: inPlace)
        defer { if staged.isCopy { unlink(staged.path) } }  // the mapping outlives the directory entry
        guard let handle = dlopen(staged.path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            let message = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw PluginRefusal("dlopen failed: \(message.replacingOccurrences(of: staged.path, with: path))")
        }
        guard let symbol = dlsym(handle, entrySymbol) else {
            if let other = otherABIEntry(in: handle) {
                throw PluginRefusal("speaks plugin ABI v\(other) (exports switchboard_engine_abi_v\(other)); this host speaks ABI v\(abiMajor) (\(entrySymbol))")
            }
            throw PluginRefusal("no entry symbol \(entrySymbol): not a Switchboard engine plugin, or built for another ABI")
        }
        let entry = unsafeBitCast(symbol, to: sb_entry_function.self)
        guard let descriptor = entry() else { throw PluginRefusal("\(entrySymbol)() returned no descriptor") }
        let metadata = try validate(descriptor)
        try checkPin(of: metadata.name, sha256: staged.sha256, trust: trust)
        return (DescriptorPointer(pointer: descriptor), ScannedPlugin(metadata: metadata, sha256: staged.sha256))
    }

    /// Refuses a file whose engine is pinned to another hash.
    static func checkPin(of engine: String, sha256: String?, trust: PluginTrust) throws(PluginRefusal) {
        guard let pinned = trust.pinnedSHA256[engine] else { return }
        guard let sha256, pinned.lowercased() == sha256 else {
            throw PluginRefusal("engine \"\(engine)\" is pinned to SHA-256 \(pinned.lowercased()), but this file has \(sha256 ?? "no hash")")
        }
    }

    /// The metadata of the plugin at `path`, without creating an engine.
    public static func inspect(_ path: String, trust: PluginTrust = PluginTrust()) throws(PluginRefusal) -> EngineMetadata {
        try open(path, trust: trust).1
    }

    /// Reads and checks a descriptor; also used for engines embedded in the host.
    static func validate(_ descriptor: UnsafePointer<sb_engine_descriptor>) throws(PluginRefusal) -> EngineMetadata {
        let d = descriptor.pointee
        guard d.covers(\.status) else {
            // 1.0's descriptor ends with the function pointer `status`.
            let minimum = MemoryLayout<sb_engine_descriptor>.offset(of: \.status)! + MemoryLayout<UnsafeRawPointer>.size
            throw PluginRefusal("descriptor too small: struct_size \(d.struct_size), ABI v\(abiMajor).0 needs at least \(minimum) bytes")
        }
        guard d.abi_version_major == abiMajor else {
            throw PluginRefusal("descriptor declares ABI v\(d.abi_version_major).\(d.abi_version_minor); this host speaks ABI v\(abiMajor).\(abiMinor)")
        }
        guard let namePointer = d.name else { throw PluginRefusal("descriptor has no engine name") }
        let name = String(cString: namePointer)
        guard EngineMetadata.isValidName(name) else {
            throw PluginRefusal("invalid engine name \"\(name)\": must match [a-z0-9][a-z0-9-]{0,31}")
        }
        guard name != EngineMetadata.compositeName else {
            throw PluginRefusal("engine name \"\(name)\" is reserved: a session made of several engines reports it as its engine")
        }
        guard let versionPointer = d.version, case let version = String(cString: versionPointer), !version.isEmpty else {
            throw PluginRefusal("engine \"\(name)\" has no version")
        }
        let features: [Feature] = try ids(d.features, count: d.feature_count, engine: name, entry: "feature", unknown: "feature id")
        guard d.create != nil, d.destroy != nil, d.call != nil, d.instance_features != nil, d.status != nil else {
            throw PluginRefusal("engine \"\(name)\": descriptor lacks one of create, destroy, call, instance_features, status")
        }
        let needs: [EngineNeed] = d.covers(\.need_count) ? try ids(d.needs, count: d.need_count, engine: name, entry: "need", unknown: "need") : []
        return EngineMetadata(
            name: name,
            version: version,
            summary: d.description.map { String(cString: $0) } ?? "",
            abiVersion: "\(d.abi_version_major).\(d.abi_version_minor)",
            features: features.sorted(),
            license: d.covers(\.license) ? d.license.flatMap(nonEmptyString) : nil,
            homepage: d.covers(\.homepage) ? d.homepage.flatMap(nonEmptyString) : nil,
            needs: needs.sorted()
        )
    }

    /// One of the descriptor's id lists (`features`, `needs`): `count` known ids, repeats kept
    /// once. `entry` names one in the refusals ("feature 2 is NULL"), `unknown` an unknown one.
    private static func ids<ID: RawRepresentable & CaseIterable & Equatable>(
        _ list: UnsafePointer<UnsafePointer<CChar>?>?, count: Int, engine name: String, entry: String, unknown: String
    ) throws(PluginRefusal) -> [ID] where ID.RawValue == String {
        guard count > 0 else { return [] }
        guard let list else { throw PluginRefusal("engine \"\(name)\" declares \(count) \(entry)s but no list") }
        var ids: [ID] = []
        for index in 0..<count {
            guard let idPointer = list[index] else { throw PluginRefusal("engine \"\(name)\": \(entry) \(index) is NULL") }
            let raw = String(cString: idPointer)
            guard let id = ID(rawValue: raw) else {
                let known = ID.allCases.map(\.rawValue).joined(separator: ", ")
                throw PluginRefusal("engine \"\(name)\" declares unknown \(unknown) \"\(raw)\" (known: \(known))")
            }
            if !ids.contains(id) { ids.append(id) }
        }
        return ids
    }

    /// Finds an entry symbol of another ABI major, to say which one the plugin speaks.
    private static func otherABIEntry(in handle: UnsafeMutableRawPointer) -> UInt32? {
        (0...32).first { $0 != abiMajor && dlsym(handle, "switchboard_engine_abi_v\($0)") != nil }.map { UInt32($0) }
    }
}


private func nonEmptyString(_ pointer: UnsafePointer<CChar>) -> String? {
    let text = String(cString: pointer)
    return text.isEmpty ? nil : text
}
