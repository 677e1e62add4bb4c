// swift-tools-version:6.2
import PackageDescription

let sdk = Target.Dependency.product(name: "ContactsEngineKit", package: "ContactsEngineSDK")
let abiHeader = Target.Dependency.product(name: "CContactsEngine", package: "ContactsEngineSDK")

let package = Package(
    name: "Switchboard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "switchboard", targets: ["switchboard"]),
        // The process a third-party engine runs in, sandboxed; the server starts it beside itself.
        .executable(name: "switchboard-engine-host", targets: ["switchboard-engine-host"]),
        // The engines we ship, each a shared object the host loads through dlopen.
        .library(name: "LocalEngine", type: .dynamic, targets: ["LocalEngine"]),
        .library(name: "FixedEngine", type: .dynamic, targets: ["FixedEngine"]),
        .library(name: "VCardEngine", type: .dynamic, targets: ["VCardEngine"]),
        .library(name: "CardDAVEngine", type: .dynamic, targets: ["CardDAVEngine"]),
        .library(name: "WAHAEngine", type: .dynamic, targets: ["WAHAEngine"]),
    ],
    dependencies: [
        // The SDK engine authors depend on (the C header and ContactsEngineKit): a package of its
        // own, so an engine resolves it alone.
        .package(path: "Sources/ContactsEngineSDK"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // The engine runtime: plugins loaded and trusted, the registry, engine handles and their
        // calls (deadlines, completions, pieces). Knows nothing of sessions.
        .target(
            name: "SwitchboardEngineRuntime",
            dependencies: [
                abiHeader,
                sdk,
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // Sessions over the runtime: the session, its manager, composition and routes, the store protocol.
        .target(
            name: "SwitchboardSessions",
            dependencies: [
                "SwitchboardEngineRuntime",
                sdk,
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Session stores, one target per database, so the host depends on none of them.
        .target(name: "SwitchboardSQLiteStore", dependencies: ["SwitchboardSessions", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(
            name: "SwitchboardPostgresStore",
            dependencies: [
                "SwitchboardSessions", "PostgresURL", .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "SwitchboardHTTP",
            dependencies: [
                "SwitchboardEngineRuntime",
                "SwitchboardSessions",
                sdk,
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The kernel's confinement primitives (clone3 into namespaces, Landlock, seccomp), in C:
        // they run between clone and exec, or before the engine host's first thread.
        .target(name: "CEngineSandbox", linkerSettings: [.linkedLibrary("seccomp")]),
        .target(
            name: "SwitchboardIsolation",
            dependencies: [
                "SwitchboardEngineRuntime", "CEngineSandbox", sdk, .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The server's side of engine processes: `ProcessIsolation`, each child's `EngineProcess`
        // and its socket as a SwiftNIO channel. A target apart so that the engine host, which
        // links `SwitchboardIsolation`, links no NIO.
        .target(
            name: "SwitchboardEngineProcesses",
            dependencies: [
                "SwitchboardIsolation", "SwitchboardEngineRuntime", "CEngineSandbox", sdk, .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(name: "switchboard-engine-host", dependencies: ["SwitchboardIsolation", "SwitchboardEngineRuntime", "CEngineSandbox"]),
        .target(
            name: "SwitchboardConformance",
            dependencies: ["SwitchboardEngineRuntime", sdk, .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "switchboard",
            dependencies: [
                "SwitchboardEngineRuntime",
                "SwitchboardSessions",
                "SwitchboardHTTP",
                "SwitchboardConformance",
                "SwitchboardIsolation",
                "SwitchboardEngineProcesses",
                "SwitchboardSQLiteStore",
                "SwitchboardPostgresStore",
                "PostgresURL",
                "LocalEngineCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),

        // A PostgreSQL URL read one way, by the session store and by `local` alike.
        .target(name: "PostgresURL", dependencies: [.product(name: "PostgresNIO", package: "postgres-nio")]),
        // The `local` engine: its code is a library so the host can embed it as the default,
        // and the `LocalEngine` product exports the same code as a plugin.
        .target(
            name: "LocalEngineCore",
            dependencies: [
                sdk, "PostgresURL", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Plugins/LocalEngine/Core"
        ),
        .target(name: "LocalEngine", dependencies: ["LocalEngineCore", sdk], path: "Plugins/LocalEngine/Export"),
        // Written in C against the header alone: proves the ABI is language neutral.
        .target(name: "FixedEngine", dependencies: [abiHeader], path: "Plugins/FixedEngine", publicHeadersPath: "."),
        // The `vcard` engine: read-only contacts from a folder of .vcf files.
        .target(name: "VCardEngineCore", dependencies: [sdk], path: "Plugins/VCardEngine/Core"),
        .target(name: "VCardEngine", dependencies: ["VCardEngineCore", sdk], path: "Plugins/VCardEngine/Export"),
        // The `carddav` engine: an address book on a CardDAV server (RFC 6352).
        .target(
            name: "CardDAVEngineCore",
            dependencies: [
                sdk,
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Plugins/CardDAVEngine/Core"
        ),
        .target(name: "CardDAVEngine", dependencies: ["CardDAVEngineCore", sdk], path: "Plugins/CardDAVEngine/Export"),
        // The `waha` engine: a session served by an upstream WAHA (or Switchboard) server.
        .target(
            name: "WAHAEngineCore",
            dependencies: [
                sdk,
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Plugins/WAHAEngine/Core"
        ),
        .target(name: "WAHAEngine", dependencies: ["WAHAEngineCore", sdk], path: "Plugins/WAHAEngine/Export"),

        .target(
            name: "SwitchboardTestSupport",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Tests/Support"
        ),
        .testTarget(
            name: "SwitchboardEngineRuntimeTests",
            dependencies: ["SwitchboardEngineRuntime", sdk, "LocalEngineCore", "SwitchboardTestSupport"]
        ),
        .testTarget(name: "LocalEngineTests", dependencies: ["LocalEngineCore", sdk, "SwitchboardTestSupport"]),
        .testTarget(name: "VCardEngineTests", dependencies: ["VCardEngineCore", sdk], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "CardDAVEngineTests",
            dependencies: [
                "CardDAVEngineCore", sdk, "SwitchboardTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SwitchboardHTTPTests",
            dependencies: [
                "SwitchboardHTTP", "SwitchboardEngineRuntime", "SwitchboardSessions", "SwitchboardSQLiteStore", "LocalEngineCore", "SwitchboardTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "WAHAEngineTests",
            dependencies: [
                "WAHAEngineCore", sdk, "SwitchboardTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "SwitchboardCLITests", dependencies: ["SwitchboardTestSupport"]),
        .testTarget(
            name: "SwitchboardEngineProcessesTests",
            dependencies: [
                "SwitchboardEngineProcesses", "SwitchboardIsolation", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SwitchboardConformanceTests",
            dependencies: [
                "SwitchboardConformance", "SwitchboardEngineRuntime", "SwitchboardIsolation", "SwitchboardEngineProcesses", "SwitchboardTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Benchmarks (Benchmarks/run.py runs them in a release build; see docs/benchmarks.md).
        .executableTarget(
            name: "ABIBenchmark",
            dependencies: ["SwitchboardEngineRuntime", "LocalEngineCore", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/ABIBenchmark"
        ),
        .executableTarget(
            name: "BareHummingbird",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            path: "Benchmarks/BareHummingbird"
        ),
    ]
)
