using System;
using System.Runtime.ExceptionServices;
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
    private int _count;

    // (phase number << 32) | next unclaimed part; parts done (run or failed) in the current phase; the first failure.
    private long _claims;
    private int _done;
    private int _phase;
    private Exception? _failure;
    private int _helperParts;

    /// <summary>Parts that thread-pool threads have run (not the caller), over the job's life: the tests check that splits do run concurrently.</summary>
    internal int HelperParts => Volatile.Read(ref _helperParts);

    /// <summary>Runs part <paramref name="index"/> of the current phase.</summary>
    protected abstract void RunPart(int index);

    /// <summary>
    /// Runs parts 0 … <paramref name="count"/> - 1 on up to <paramref name="threads"/> threads, this one included, and
    /// returns when all are done (rethrowing the first exception a part threw, after every part has finished).
    /// </summary>
    protected void RunPhase(int count, int threads)
    {
        int phase = ++_phase;
        // Close the claim word before the phase's fields change: a helper still holding the previous word fails its
        // compare-exchange, and one that reads this word finds no part left.
        Interlocked.Exchange(ref _claims, ((long)phase << 32) | int.MaxValue);
        _count = count;
        _done = 0;
        _failure = null;
        Volatile.Write(ref _claims, (long)phase << 32); // opens the phase: publishes the fields above to the helpers
        try
        {
            for (int i = 1; i < Math.Min(threads, count); i++)
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
        catch (OutOfMemoryException)
        {
            // Fewer helpers: this thread runs the parts nobody claims.
        }
        Work(phase);
        // Every part is claimed now; wait for those other threads are still running.
        var spin = new SpinWait();
        while (Volatile.Read(ref _done) < count)
            spin.SpinOnce(sleep1Threshold: -1);
        if (_failure is { } failure)
            ExceptionDispatchInfo.Throw(failure);
    }

    /// <summary>A thread-pool thread joins the phase that is current when it starts (if any part is left).</summary>
    public void Execute()
    {
        int ran = Work((int)(Volatile.Read(ref _claims) >> 32));
        if (ran > 0)
            Interlocked.Add(ref _helperParts, ran);
    }

    /// <summary>Claims and runs parts of <paramref name="phase"/> until none is left; returns how many this thread ran.</summary>
    private int Work(int phase)
    {
        int ran = 0;
        while (true)
        {
            long claims = Volatile.Read(ref _claims);
            int next = (int)claims;
            if ((int)(claims >> 32) != phase || next >= _count)
                return ran;
            if (Interlocked.CompareExchange(ref _claims, claims + 1, claims) != claims)
                continue;
            ran++;
            try
            {
                RunPart(next);
            }
            catch (Exception e)
            {
                // Kept for the caller, which rethrows it once every part has finished (nothing escapes a pool thread).
                Interlocked.CompareExchange(ref _failure, e, null);
            }
            finally
            {
                Interlocked.Increment(ref _done);
            }
        }
    }
}
