using System.Threading;

namespace RnnGen.__Internals;

/// <summary>
/// A call split over threads (<see cref="Parallelism"/>), in phases of parts. The caller posts this object to the
/// thread pool once per helper and works on the parts itself; a part is claimed with one compare-exchange on a
/// (phase, next part) word, so a helper that starts late finds its phase over and leaves, and the caller only ever
/// waits for parts that another thread is running (no starvation, whoever calls). One instance per module, reused:
/// nothing is allocated per call.
/// </summary>
internal abstract class SplitJob : IThreadPoolWorkItem
{
    private int _helpers;
    private int _count;

    // (phase number << 32) | next unclaimed part; parts done in the current phase.
    private long _claims;
    private int _done;
    private int _phase;

    /// <summary>Runs part <paramref name="index"/> of the current phase.</summary>
    protected abstract void RunPart(int index);

    /// <summary>Runs parts 0 … <paramref name="count"/> - 1 on up to <paramref name="threads"/> threads, this one included, and returns when all are done.</summary>
    protected void RunPhase(int count, int threads)
    {
        _count = count;
        _done = 0;
        int phase = ++_phase;
        Volatile.Write(ref _claims, (long)phase << 32); // publishes the phase's fields, set before this call, to the helpers
        _helpers = System.Math.Min(threads, count) - 1;
        for (int i = 0; i < _helpers; i++)
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        Work(phase);
        // Every part is claimed now; wait for those other threads are still running.
        var spin = new SpinWait();
        while (Volatile.Read(ref _done) < count)
            spin.SpinOnce(sleep1Threshold: -1);
    }

    /// <summary>A thread-pool thread joins the phase that is current when it starts (if any part is left).</summary>
    public void Execute() => Work((int)(Volatile.Read(ref _claims) >> 32));

    private void Work(int phase)
    {
        while (true)
        {
            long claims = Volatile.Read(ref _claims);
            int next = (int)claims;
            if ((int)(claims >> 32) != phase || next >= _count)
                return;
            if (Interlocked.CompareExchange(ref _claims, claims + 1, claims) != claims)
                continue;
            RunPart(next);
            Interlocked.Increment(ref _done);
        }
    }
}
