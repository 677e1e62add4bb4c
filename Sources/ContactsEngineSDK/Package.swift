// swift-tools-version:6.2
// The Switchboard contacts-engine SDK: the C ABI header and ContactsEngineKit, with no
// dependency on anything of the host's, so an engine package resolves this package alone.
// Inside a Switchboard checkout it is a nested package the root package depends on by path;
// published, it is this folder as a repository of its own (docs/writing-an-engine.md).
import PackageDescription

let package = Package(
    name: "ContactsEngineSDK",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ContactsEngineKit", targets: ["ContactsEngineKit"]),
        // The header alone, for an engine written in C and built with SwiftPM.
        .library(name: "CContactsEngine", targets: ["CContactsEngine"]),
    ],
    targets: [
        .target(name: "CContactsEngine"),
        .target(name: "ContactsEngineKit", dependencies: ["CContactsEngine"]),
    ]
)

// The API reference (scripts/sdk-docs) needs the DocC plugin; only then is it a dependency, so
// that an engine resolving this package fetches nothing else.
if Context.environment["CONTACTS_ENGINE_SDK_DOCS"] != nil {
    package.dependencies.append(.package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"))
}
