import CardDAVEngineCore
import ContactsEngineKit

/// The plugin's one exported symbol: the CardDAV engine as a loadable `.so`.
@_cdecl("switchboard_engine_abi_v1")
public func switchboardEngineABIv1() -> EngineDescriptor {
    CardDAVEngine.descriptor
}
