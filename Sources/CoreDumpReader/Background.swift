import CSched
import Glibc
import Synchronization

/// Work on a thread of its own, its result taken when needed (`value` waits for it): a second
/// core reads half of a large range (`MappedFile.readInParallel`), or walks the guest's irq
/// descriptors while the ITS tables are walked. When no thread can be made, the work runs at
/// once, on the caller's.
public final class Background<T: Sendable>: @unchecked Sendable {
    private let state = Mutex<(thread: pthread_t?, result: T?)>((nil, nil))
    /// Held while the thread is joined: a second caller waits for the first's join.
    private let joining = Mutex(())

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

    /// A thread nobody waited for (a BTF read whose kimage_voffset the text did not confirm)
    /// is detached, so that its resources go when it ends.
    deinit {
        if let thread = state.withLock({ $0.thread }) { pthread_detach(thread) }
    }

    /// The result, once the thread is done.
    public var value: T {
        joining.withLock { _ in
            let thread = state.withLock { s -> pthread_t? in
                defer { s.thread = nil }
                return s.thread
            }
            if let thread { pthread_join(thread, nil) }
        }
        // Joined (here, or by the call that took the thread, which held `joining` until then):
        // the result is there.
        return state.withLock { $0.result! }
    }
}

/// Runs `body` on a new thread; nil when none can be made. The caller joins it.
///
/// The thread first moves itself to another CPU than the caller's, when the process may use
/// one, and the caller yields until it has: a new thread otherwise waits on the caller's CPU
/// until the caller blocks (seen on a 2-vCPU guest whose vCPUs share no cache, where the
/// scheduler looks for an idle CPU only among those that do: the irq walk started only once
/// the routes were done), which makes the pair serial.
func startThread(_ body: @escaping () -> Void) -> pthread_t? {
    final class Box: @unchecked Sendable {
        let body: () -> Void
        let cpu: Int?
        let moved = Atomic<Bool>(false)
        init(_ b: @escaping () -> Void, cpu: Int?) { (body, self.cpu) = (b, cpu) }
    }
    let other = itsdump_other_cpu()
    let box = Box(body, cpu: other >= 0 ? Int(other) : nil)
    let context = Unmanaged.passRetained(box).toOpaque()
    var thread = pthread_t()
    guard pthread_create(&thread, nil, { context in
        guard let context else { return nil }
        let box = Unmanaged<Box>.fromOpaque(context).takeRetainedValue()
        if let cpu = box.cpu { _ = itsdump_move_to(Int32(cpu)) }
        box.moved.store(true, ordering: .releasing)
        box.body()
        return nil
    }, context) == 0 else {
        Unmanaged<Box>.fromOpaque(context).release()
        return nil
    }
    // A bounded wait: the thread runs when this one yields.
    var spins = 0
    while box.cpu != nil, !box.moved.load(ordering: .acquiring), spins < 10_000 {
        sched_yield()
        spins += 1
    }
    return thread
}
