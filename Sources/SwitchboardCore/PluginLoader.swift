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
    let pointer: UnsafePointer<sb_engine_descriptor>
}

/// Opens plugin files and checks their handshake. Never unloads anything: see `open(_:)`.
public enum PluginLoader {
    public static let entrySymbol = SB_ENTRY_SYMBOL
    public static let abiMajor = UInt32(SB_ABI_VERSION_MAJOR)
    public static let abiMinor = UInt32(SB_ABI_VERSION_MINOR)

    /// Opens the plugin at `path` and validates its descriptor.
    ///
    /// The file is first copied to a private path of its own: a new version of a plugin installed
    /// over the old file then gets a new mapping (dlopen returns the existing handle for a path it
    /// knows), and overwriting the original in place cannot corrupt the mapped copy.
    ///
    /// Opened with RTLD_NODELETE and never dlclose'd: the Swift runtime keeps pointers into a
    /// loaded Swift library (type metadata and conformance caches), so unmapping it crashes the
    /// host later. A refused plugin stays mapped too; that costs address space, not safety.
    static func open(_ path: String) throws(PluginRefusal) -> (DescriptorPointer, EngineMetadata) {
        try checkIsSharedObject(path)
        let privateCopy = try PrivateCopies.copy(path)
        defer { unlink(privateCopy) }  // the mapping outlives the directory entry
        guard let handle = dlopen(privateCopy, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            let message = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw PluginRefusal("dlopen failed: \(message.replacingOccurrences(of: privateCopy, with: path))")
        }
        guard let symbol = dlsym(handle, entrySymbol) else {
            if let other = otherABIEntry(in: handle) {
                throw PluginRefusal("speaks plugin ABI v\(other) (exports switchboard_engine_abi_v\(other)); this host speaks ABI v\(abiMajor) (\(entrySymbol))")
            }
            throw PluginRefusal("no entry symbol \(entrySymbol): not a Switchboard engine plugin, or built for another ABI")
        }
        let entry = unsafeBitCast(symbol, to: sb_entry_function.self)
        guard let descriptor = entry() else { throw PluginRefusal("\(entrySymbol)() returned no descriptor") }
        return (DescriptorPointer(pointer: descriptor), try validate(descriptor))
    }

    /// The metadata of the plugin at `path`, without creating an engine.
    public static func inspect(_ path: String) throws(PluginRefusal) -> EngineMetadata {
        try open(path).1
    }

    /// Reads and checks a descriptor; also used for engines embedded in the host.
    static func validate(_ descriptor: UnsafePointer<sb_engine_descriptor>) throws(PluginRefusal) -> EngineMetadata {
        let d = descriptor.pointee
        guard d.covers(\.status) else {
            throw PluginRefusal("descriptor too small: struct_size \(d.struct_size), ABI v\(abiMajor).0 needs at least \(MemoryLayout<sb_engine_descriptor>.size) bytes")
        }
        guard d.abi_version_major == abiMajor else {
            throw PluginRefusal("descriptor declares ABI v\(d.abi_version_major).\(d.abi_version_minor); this host speaks ABI v\(abiMajor).\(abiMinor)")
        }
        guard let namePointer = d.name else { throw PluginRefusal("descriptor has no engine name") }
        let name = String(cString: namePointer)
        guard EngineMetadata.isValidName(name) else {
            throw PluginRefusal("invalid engine name \"\(name)\": must match [a-z0-9][a-z0-9-]{0,31}")
        }
        guard let versionPointer = d.version, case let version = String(cString: versionPointer), !version.isEmpty else {
            throw PluginRefusal("engine \"\(name)\" has no version")
        }
        var features: [Feature] = []
        if d.feature_count > 0 {
            guard let list = d.features else { throw PluginRefusal("engine \"\(name)\" declares \(d.feature_count) features but no list") }
            for index in 0..<d.feature_count {
                guard let idPointer = list[index] else { throw PluginRefusal("engine \"\(name)\": feature \(index) is NULL") }
                let id = String(cString: idPointer)
                guard let feature = Feature(rawValue: id) else {
                    let known = Feature.allCases.map(\.rawValue).joined(separator: ", ")
                    throw PluginRefusal("engine \"\(name)\" declares unknown feature id \"\(id)\" (known: \(known))")
                }
                if !features.contains(feature) { features.append(feature) }
            }
        }
        guard d.create != nil, d.destroy != nil, d.call != nil, d.instance_features != nil, d.status != nil else {
            throw PluginRefusal("engine \"\(name)\": descriptor lacks one of create, destroy, call, instance_features, status")
        }
        return EngineMetadata(
            name: name,
            version: version,
            summary: d.description.map { String(cString: $0) } ?? "",
            abiVersion: "\(d.abi_version_major).\(d.abi_version_minor)",
            features: features.sorted()
        )
    }

    /// Reads the ELF header so a stray file gets a clear reason rather than dlopen's.
    private static func checkIsSharedObject(_ path: String) throws(PluginRefusal) {
        guard let file = FileHandle(forReadingAtPath: path) else { throw PluginRefusal("cannot open file for reading") }
        defer { try? file.close() }
        let header = (try? file.read(upToCount: 18)) ?? Data()
        guard header.count == 18, header.starts(with: [0x7F, 0x45, 0x4C, 0x46]) else {
            throw PluginRefusal("not a shared object: no ELF header")
        }
        let littleEndian = header[5] == 1
        let type = littleEndian ? UInt16(header[16]) | UInt16(header[17]) << 8 : UInt16(header[16]) << 8 | UInt16(header[17])
        guard type == 3 else { throw PluginRefusal("not a shared object: ELF type \(type), expected ET_DYN (3)") }
    }

    /// Finds an entry symbol of another ABI major, to say which one the plugin speaks.
    private static func otherABIEntry(in handle: UnsafeMutableRawPointer) -> UInt32? {
        (0...32).first { $0 != abiMajor && dlsym(handle, "switchboard_engine_abi_v\($0)") != nil }.map { UInt32($0) }
    }
}

/// Unique private paths for plugin copies, one folder per host process.
enum PrivateCopies {
    private static let folder: String = {
        let path = NSTemporaryDirectory() + "switchboard-plugins-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()
    private static let counter = Counter()

    static func copy(_ path: String) throws(PluginRefusal) -> String {
        let target = "\(folder)/\(counter.next())-\((path as NSString).lastPathComponent)"
        do {
            try FileManager.default.copyItem(atPath: path, toPath: target)
        } catch {
            throw PluginRefusal("cannot copy plugin to a private path: \(error.localizedDescription)")
        }
        return target
    }
}
