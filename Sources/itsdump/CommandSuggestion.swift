/// `itsdump rotues …`: ArgumentParser would say "3 unexpected arguments"; a word where a
/// command belongs that names none gets the nearest command names instead.
enum CommandSuggestion {
    /// The message for `arguments` (without the program name), or nil when the first word is
    /// an option or a command.
    static func message(_ arguments: [String], commands: [String]) -> String? {
        // `itsdump help nosuch`: ArgumentParser would print the root help and exit 0.
        if arguments.first == "help", arguments.count > 1, !arguments[1].hasPrefix("-") {
            return message(Array(arguments.dropFirst()), commands: commands).map { "help: " + $0 }
        }
        guard let word = arguments.first, !word.hasPrefix("-"), !commands.contains(word) else { return nil }
        let near = commands.map { ($0, distance(word.lowercased(), $0)) }
            .filter { $0.1 <= max(1, $0.0.count / 3) || $0.0.hasPrefix(word.lowercased()) }
            .sorted { $0.1 < $1.1 }
            .map(\.0)
        let list = commands.joined(separator: ", ")
        if near.isEmpty { return "'\(word)' is not a command; the commands are \(list)" }
        return "'\(word)' is not a command; did you mean '\(near.prefix(2).joined(separator: "' or '"))'? (commands: \(list))"
    }

    /// Edit distance with transpositions (optimal string alignment): "rotues" → "routes" is 1.
    static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        guard !x.isEmpty else { return y.count }
        guard !y.isEmpty else { return x.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in 0...x.count { d[i][0] = i }
        for j in 0...y.count { d[0][j] = j }
        for i in 1...x.count {
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[x.count][y.count]
    }
}
