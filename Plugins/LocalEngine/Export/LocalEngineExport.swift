import ContactsEngineKit
import LocalEngineCore

/// The plugin's one exported symbol: the same engine the host embeds, as a loadable `.so`.
@_cdecl("switchboard_engine_abi_v1")
public func switchboardEngineABIv1() -> EngineDescriptor {
    LocalEngine.descriptor
}
