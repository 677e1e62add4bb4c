import ArgumentParser

@main
struct Switchboard: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "WAHA's contacts API over engines that are plugins.",
        version: version,
        subcommands: [Serve.self, Engines.self, Inspect.self, Import.self, Verify.self],
        defaultSubcommand: Serve.self
    )
}
