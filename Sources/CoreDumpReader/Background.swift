import Glibc
import Synchronization

/// Work on a thread of its own, its result taken when needed (`value` waits for it): a second
/// core reads half of a large range (`MappedFile.readInParallel`), or walks the guest's irq
/// descriptors while the ITS tables are walked. When no thread can be made, the work runs at
/// once, on the caller's.
public final class Background<T: Sendable>: @unchecked Sendable {
    private let state = Mutex<(thread: pthread_t?, result: T?)>((nil, nil))

    public init(_ work: @escaping @Sendable () -> T) {
        let thread = startThread { [self] in
            let r = work()
            state.withLock { $0.result = r }
        }
        if let thread {
            state.withLock { $0.thread = thread }
        } else {
            let r = work()
            state.withLock { $0.result = r }
        }
    }

    /// The result, once the thread is done.
    public var value: T {
        let thread = state.withLock { s -> pthread_t? in
            defer { s.thread = nil }
            return s.thread
        }
        if let thread { pthread_join(thread, nil) }
        // Joined (here, or by the call that took the thread): the result is there.
        return state.withLock { $0.result! }
    }
}

/// Runs `body` on a new thread; nil when none can be made. The caller joins it.
func startThread(_ body: @escaping () -> Void) -> pthread_t? {
    final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    guard pthread_create(&thread, nil, { context in
        guard let context else { return nil }
        Unmanaged<Box>.fromOpaque(context).takeRetainedValue().body()
        return nil
    }, context) == 0 else {
        Unmanaged<Box>.fromOpaque(context).release()
        return nil
    }
    return thread
}
