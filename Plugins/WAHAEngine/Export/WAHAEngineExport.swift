import ContactsEngineKit
import WAHAEngineCore

/// The plugin's one exported symbol.
@_cdecl("switchboard_engine_abi_v1")
public func switchboardEngineABIv1() -> UnsafePointer<sb_engine_descriptor> {
    EngineExport.descriptor(for: WAHAEngine.self)
}
