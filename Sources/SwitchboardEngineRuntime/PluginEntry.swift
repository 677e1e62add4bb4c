#if canImport(Glibc)
import Glibc
#endif

/// Which engine instance's code the current thread is inside. A plugin in the server's process
/// can end it (`exit()` inside a call); the server's exit handler reads this to say whose call
/// it was. A thread-specific value, set and restored around every entry into an instance, costs
/// two stores per call and no allocation.
public enum PluginEntry {
    /// The engine and session of an instance, made once per instance.
    final class Label: Sendable {
        let engine: String
        let session: String

        init(engine: String, session: String) {
            self.engine = engine
            self.session = session
        }
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Runs `body`, which enters the instance `label` names, marked as inside it.
    static func inside<T>(_ label: Label, _ body: () -> T) -> T {
        let outer = pthread_getspecific(key)
        pthread_setspecific(key, Unmanaged.passUnretained(label).toOpaque())
        defer { pthread_setspecific(key, outer) }
        return body()
    }

    /// The engine and session whose instance this thread is inside, if it is inside one. The
    /// label stays alive meanwhile: the entry holds its instance's handle.
    public static var current: (engine: String, session: String)? {
        guard let pointer = pthread_getspecific(key) else { return nil }
        let label = Unmanaged<Label>.fromOpaque(pointer).takeUnretainedValue()
        return (label.engine, label.session)
    }
}
