import CoreDumpReader
import Glibc

/// What `--version` prints: the version and the git commit the binary was built from. SwiftPM
/// cannot stamp a build, so the commit is found at run time: beside an installed binary, in
/// `../share/itsdump/commit` (written by scripts/install.sh); for a binary inside a checkout's
/// `.build/`, from the checkout's git HEAD (a worktree's `.git` file, loose refs and
/// packed-refs are followed). Anywhere else the commit is unknown, and it says so.
enum BuildIdentity {
    static let version = "0.1.0"

    static var versionLine: String {
        if let c = commit { return "\(version) (git commit \(c))" }
        return "\(version) (git commit unknown: not installed by scripts/install.sh nor run from a checkout's .build)"
    }

    /// What the root command's configuration carries: the version line when `--version` is among
    /// the arguments (the only time swift-argument-parser prints it, after any command), else the
    /// bare version, so that no other run pays for finding the commit (readlink and the
    /// checkout's git files: as much as 7 % of a whole `--version` run, issue 22).
    static var versionLineIfAsked: String {
        CommandLine.arguments.dropFirst().contains("--version") ? versionLine : version
    }

    static let commit: String? = {
        guard let exe = executablePath else { return nil }
        let dir = parent(exe)
        if let c = read(parent(dir) + "/share/itsdump/commit").flatMap(sha) { return c }
        // Walk up from .build/<triple>/debug: the checkout is a few folders above.
        var d = dir
        for _ in 0..<8 {
            if let c = headCommit(checkout: d) { return c }
            let up = parent(d)
            if up == d { break }
            d = up
        }
        return nil
    }()

    static var executablePath: String? {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// A small text file, trimmed; nil when absent or larger than 1 MiB.
    static func read(_ path: String) -> String? {
        guard let f = try? MappedFile(path: path), f.size < 1 << 20 else { return nil }
        let text = String(decoding: f.bytes(at: 0, count: Int(f.size)) ?? [], as: UTF8.self)
        return text.trimmingSpace
    }

    /// The 40-hex-digit commit at the start of `s`, shortened to 12.
    static func sha(_ s: String) -> String? {
        let hex = s.prefix(40)
        guard hex.count == 40, hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
        return String(hex.prefix(12))
    }

    static func headCommit(checkout: String) -> String? {
        var gitDir = checkout + "/.git"
        if FileOutput.exists(gitDir), !FileOutput.isDirectory(gitDir) {
            // A worktree: ".git" holds "gitdir: PATH".
            guard let line = read(gitDir), line.hasPrefix("gitdir: ") else { return nil }
            let p = String(line.dropFirst("gitdir: ".count))
            gitDir = p.hasPrefix("/") ? p : checkout + "/" + p
        }
        guard let head = read(gitDir + "/HEAD") else { return nil }
        guard head.hasPrefix("ref: ") else { return sha(head) }
        let ref = String(head.dropFirst("ref: ".count))
        let common = read(gitDir + "/commondir").map { $0.hasPrefix("/") ? $0 : gitDir + "/" + $0 } ?? gitDir
        for dir in [gitDir, common] {
            if let c = read(dir + "/" + ref).flatMap(sha) { return c }
        }
        for line in (read(common + "/packed-refs") ?? "").split(separator: "\n") where line.hasSuffix(" " + ref) {
            return sha(String(line))
        }
        return nil
    }
}

extension String {
    var trimmingSpace: String {
        let t = drop { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        return String(t.reversed().drop { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }.reversed())
    }
}
