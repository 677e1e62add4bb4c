import SwitchboardEngineRuntime

/// `GET /engines`: the feature matrix as a page for people. Written on the server, styled
/// inline, with no script and nothing fetched from anywhere, so it reads the same in any
/// browser, a text one included. Its rows come from `FeatureMatrix` and `SessionFeatures`,
/// the same values the JSON routes answer.
struct MatrixPage {
    let matrix: FeatureMatrix
    let sessions: [SessionFeatures]
    /// Each session's sandbox in a few words (`SandboxReport.summary`); a session missing here runs in-process.
    let sandboxes: [String: String]
    /// Refused plugin files, each with its reason.
    let refused: [EngineListing]
    let version: String

    var html: String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Switchboard engines</title>
        <style>
        body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1b1b; }
        table { border-collapse: collapse; margin-bottom: 2rem; }
        th, td { border: 1px solid #c8c8c8; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
        thead th { background: #f0f0f0; }
        td.yes { background: #dff3df; text-align: center; }
        td.no { color: #8a8a8a; text-align: center; }
        code { font-size: 0.9em; }
        /* Twelve feature ids across would overflow a 1280-pixel window: they read upwards. */
        th.feature { vertical-align: bottom; padding: 0.6rem 0.3rem; }
        th.feature span { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; }
        </style>
        </head>
        <body>
        <h1>Switchboard engines</h1>
        <p>Switchboard \(escape(version)): which features each loaded engine declares, which ones each
        session answers now, and the plugin files that were refused. The same data as JSON:
        <a href="/api/engines/matrix">/api/engines/matrix</a>, <a href="/api/engines">/api/engines</a>.</p>
        \(enginesSection)
        \(sessionsSection)
        \(refusedSection)
        </body>
        </html>

        """
    }

    private var enginesSection: String {
        let header = matrix.engines.map { "<th scope=\"col\" id=\"engine-\(escape($0.name))\">\(escape($0.name))</th>" }.joined()
        let rows = matrix.features.map { feature in
            let cells = matrix.engines.map { mark(feature.engines[$0.name] == true) }.joined()
            return "<tr><th scope=\"row\"><code>\(escape(feature.id))</code></th><td>\(escape(feature.summary))</td>"
                + "<td>\(feature.endpoints.map { "<code>\(escape($0))</code>" }.joined(separator: "<br>"))</td>\(cells)</tr>"
        }
        let engines = matrix.engines.map { engine in
            let needs = engine.needs.isEmpty ? "" : " Needs, when granted in its sandbox: \(engine.needs.map(\.rawValue).joined(separator: ", "))."
            return "<li><strong>\(escape(engine.name))</strong> \(escape(engine.version)): \(escape(engine.summary)).\(escape(needs))</li>"
        }
        return """
            <h2>Engines × features</h2>
            <table id="engines">
            <thead><tr><th scope="col">feature</th><th scope="col">what it answers</th><th scope="col">endpoints</th>\(header)</tr></thead>
            <tbody>
            \(rows.joined(separator: "\n"))
            </tbody>
            </table>
            <ul>\(engines.joined())</ul>
            """
    }

    private var sessionsSection: String {
        let header = matrix.features.map { "<th scope=\"col\" class=\"feature\"><span><code>\(escape($0.id))</code></span></th>" }.joined()
        let rows = sessions.map { session in
            let served = Set(session.features)
            let cells = matrix.features.map { feature in
                // A composite names the member serving the feature now.
                guard let routing = session.routing else { return mark(served.contains(feature.id)) }
                return mark(routing[feature.id]?.servedBy != nil, by: routing[feature.id]?.servedBy)
            }.joined()
            return "<tr><th scope=\"row\">\(escape(session.session))</th><td>\(escape(session.engine))</td>"
                + "<td>\(escape(session.status.rawValue))</td><td>\(escape(sandboxes[session.session] ?? "in-process"))</td>\(cells)</tr>"
        }
        return """
            <h2>Sessions</h2>
            <p>What each session answers now, from its engine instance (a composite session: the member serving each feature now); a session that is not working answers none.</p>
            <table id="sessions">
            <thead><tr><th scope="col">session</th><th scope="col">engine</th><th scope="col">status</th><th scope="col">sandbox</th>\(header)</tr></thead>
            <tbody>
            \(rows.joined(separator: "\n"))
            </tbody>
            </table>
            """
    }

    private var refusedSection: String {
        guard !refused.isEmpty else { return "<h2>Refused plugins</h2>\n<p>None.</p>" }
        let rows = refused.map { "<tr><td><code>\(escape($0.file))</code></td><td>\(escape($0.reason ?? ""))</td></tr>" }
        return """
            <h2>Refused plugins</h2>
            <table id="refused">
            <thead><tr><th scope="col">file</th><th scope="col">reason</th></tr></thead>
            <tbody>
            \(rows.joined(separator: "\n"))
            </tbody>
            </table>
            """
    }

    /// Words as well as colour, for a text browser and a reader who cannot tell the colours apart.
    private func mark(_ supported: Bool, by member: String? = nil) -> String {
        supported ? "<td class=\"yes\">✔ \(escape(member ?? "yes"))</td>" : "<td class=\"no\">no</td>"
    }

    private func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
