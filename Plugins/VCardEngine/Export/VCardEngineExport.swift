import ContactsEngineKit
import VCardEngineCore

/// The plugin's one exported symbol.
@_cdecl("switchboard_engine_abi_v1")
public func switchboardEngineABIv1() -> EngineDescriptor {
    EngineExport.descriptor(for: VCardEngine.self)
}
