import TextFormats

/// A renderer that writes some reports as they are produced, into bytes drained 64 KiB at a
/// time to standard output or to -o FILE's temporary file (issue 22: `routes` on a million
/// routes in bounded memory). Other reports are built whole (`render`).
protocol StreamingRenderer: Renderer {
    /// The writer of `report`, or nil when this renderer builds it whole.
    func streamed(_ report: Report) -> ((inout ByteOutput) -> Void)?
}
