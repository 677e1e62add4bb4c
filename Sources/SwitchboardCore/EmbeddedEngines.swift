import CContactsEngine
import LocalEngineCore

/// Engines compiled into the host, published through the same C ABI as plugins.
public enum EmbeddedEngines {
    /// `local`, the default engine: a fresh install serves with it and needs no plugin file.
    public static var local: UnsafePointer<sb_engine_descriptor> { LocalEngine.descriptor }
}
