// swift-tools-version:6.2
// A contacts engine for Switchboard, in a package of its own: copy this folder, rename, build.
// docs/writing-an-engine.md walks through it.
import PackageDescription

let package = Package(
    name: "HelloEngine",
    platforms: [.macOS(.v15)],
    products: [
        // The plugin: a shared library the host loads with dlopen.
        .library(name: "HelloEngine", type: .dynamic, targets: ["HelloEngine"]),
    ],
    dependencies: [
        // The SDK alone: the C header and ContactsEngineKit, nothing of the host's. Its major
        // version is the plugin ABI's, its minor the newest ABI minor it speaks. Inside a
        // Switchboard checkout, `.package(path: "<checkout>/Sources/ContactsEngineSDK")` works too.
        .package(url: "https://github.com/switchboard-contacts/contacts-engine-sdk.git", from: "1.3.0"),
    ],
    targets: [
        .target(name: "HelloEngine", dependencies: [.product(name: "ContactsEngineKit", package: "contacts-engine-sdk")]),
    ]
)
