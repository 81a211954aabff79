using System;
using System.Threading;

namespace RnnGen.__Internals;

/// <summary>
/// A sequence forward split over threads (<see cref="Parallelism"/>). Per layer there are two phases, each cut into
/// parts: the input projection (rows of the whole sequence, or time steps when batch-first) and then the recurrence
/// (batch rows, per direction, every time step); the next layer's projection reads this layer's output, so each phase
/// ends when all its parts have. The caller posts this object to the thread pool once per helper and works on the
/// parts itself; a part is claimed with one compare-exchange on a (phase, next part) word, so a helper that starts
/// late finds the phase over and leaves. One instance per module (its workspace), reused: no allocation per call.
/// </summary>
internal sealed unsafe class SequenceJob<TKernels> : IThreadPoolWorkItem
    where TKernels : struct, IRnnKernels
{
    private TKernels _kernels;
    private RnnShape _shape;
    private SequenceFrame _frame;
    private int _parts;

    // The current phase: which layer, projection or recurrence, and how many parts (directions × _parts).
    private int _layer;
    private bool _recurrence;
    private int _count;

    // (phase number << 32) | next unclaimed part; parts done in the current phase.
    private long _claims;
    private int _done;
    private int _phase;

    /// <summary>Runs the whole forward of <paramref name="frame"/> on up to <paramref name="workers"/> threads, this one included.</summary>
    public void Run(ref TKernels kernels, in RnnShape shape, in SequenceFrame frame, int workers)
    {
        _kernels = kernels;
        _shape = shape;
        _frame = frame;
        _parts = workers;
        try
        {
            for (int layer = 0; layer < shape.NumLayers; layer++)
            {
                RunPhase(layer, recurrence: false);
                RunPhase(layer, recurrence: true);
            }
        }
        finally
        {
            _frame = default; // the pointers are valid only during the call
        }
    }

    /// <summary>A thread-pool thread joins the phase that is current when it starts (if any part is left).</summary>
    public void Execute() => Work((int)(Volatile.Read(ref _claims) >> 32));

    private void RunPhase(int layer, bool recurrence)
    {
        _layer = layer;
        _recurrence = recurrence;
        _count = _shape.NumDirections * _parts;
        _done = 0;
        int phase = ++_phase;
        Volatile.Write(ref _claims, (long)phase << 32); // publishes the fields above to the threads that read it
        for (int i = 1; i < _parts; i++)
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        Work(phase);
        // Every part is claimed now; wait for those other threads are still running.
        var spin = new SpinWait();
        while (Volatile.Read(ref _done) < _count)
            spin.SpinOnce(sleep1Threshold: -1);
    }

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

    private void RunPart(int index)
    {
        int d = index / _parts, part = index % _parts;
        if (_recurrence)
        {
            (int first, int rows) = Parallelism.Split(_frame.Batch, part, _parts, Parallelism.RowAlignment);
            if (rows > 0)
                RnnDriver.Recur(ref _kernels, _shape, _frame, _layer, d, first, rows);
        }
        else
        {
            // Sequence-first rows are split on row-block boundaries; batch-first time steps each make a whole call.
            int units = RnnDriver.ProjectionUnits(_shape, _frame);
            (int first, int count) = Parallelism.Split(units, part, _parts, _shape.BatchFirst ? 1 : Parallelism.RowAlignment);
            if (count > 0)
                RnnDriver.ProjectLayer(ref _kernels, _shape, _frame, _layer, d, first, count);
        }
    }
}
