import ITSLayout

/// Unusable input: thrown, printed as one line by the CLI, exit status 2.
public enum DumpError: ToolError {
    case cannotOpen(path: String, reason: String)
    case notADump(path: String, reason: String)
    case malformed(path: String, offset: UInt64?, reason: String)
    case badArgument(String)
    case stateFile(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotOpen(let p, let r): return "\(p): cannot open: \(r)"
        case .notADump(let p, let r): return "\(p): \(r)"
        case .malformed(let p, let o, let r):
            return o.map { "\(p): at file offset 0x\(String($0, radix: 16)): \(r)" } ?? "\(p): \(r)"
        case .badArgument(let r): return r
        case .stateFile(let p, let r): return "\(p): \(r)"
        }
    }
}
