import Glibc
import Synchronization

/// `-` as a file name (`--regs -`, `--expected -`): standard input, read once and kept, so
/// that a second reader of the same option (the register state is composed twice with
/// --vmlinux) sees the same bytes. Bounded: a state file or an expected view is text, not a
/// dump.
public enum StandardInput {
    /// The name `-` stands for in messages.
    public static let name = "standard input"
    private static let cache = Mutex<[UInt8]?>(nil)

    /// All of standard input, at most `limit` bytes (more is an error naming the limit).
    public static func bytes(limit: Int) throws(DumpError) -> [UInt8] {
        let result: Result<[UInt8], DumpError> = cache.withLock { cached in
            if let cached { return .success(cached) }
            var out: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    return .failure(.cannotOpen(path: name, reason: String(cString: strerror(errno))))
                }
                if n == 0 { break }
                guard out.count + n <= limit else {
                    return .failure(.badArgument("\(name): more than \(limit) bytes; give a file instead"))
                }
                out.append(contentsOf: chunk[0..<n])
            }
            cached = out
            return .success(out)
        }
        return try result.get()
    }
}
