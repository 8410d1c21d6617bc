/// An error that ends a command: unusable input or arguments. `main` prints its description as
/// one line ("itsdump: …") and exits with `exitStatus`; no such error reaches
/// swift-argument-parser's default printer.
public protocol ToolError: Error, CustomStringConvertible, Sendable {
    var exitStatus: Int32 { get }
}

extension ToolError {
    /// README "Exit status": 2 is unusable input or arguments.
    public var exitStatus: Int32 { 2 }
}
