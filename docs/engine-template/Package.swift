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
        // The SDK. Outside this repository, depend on it by URL and version instead:
        // .package(url: "https://github.com/<owner>/switchboard.git", from: "0.1.0")
        .package(name: "switchboard", path: "../.."),
    ],
    targets: [
        .target(name: "HelloEngine", dependencies: [.product(name: "ContactsEngineKit", package: "switchboard")]),
    ]
)
