namespace RnnGen.__Internals;

/// <summary>
/// A sequence forward split over threads. Per layer two phases: the input projection (rows of the whole sequence, or
/// time steps when batch-first) and then the recurrence (batch rows, per direction, every time step); the next
/// layer's projection reads this layer's output, so each phase ends when all its parts have.
/// </summary>
internal sealed class SequenceJob<TKernels> : SplitJob
    where TKernels : struct, IRnnKernels
{
    private TKernels _kernels;
    private RnnShape _shape;
    private SequenceFrame _frame;
    private int _threads;
    private int _layer;
    private bool _recurrence;

    /// <summary>Runs the whole forward of <paramref name="frame"/> on up to <paramref name="threads"/> threads, this one included.</summary>
    public void Run(ref TKernels kernels, in RnnShape shape, in SequenceFrame frame, int threads)
    {
        _kernels = kernels;
        _shape = shape;
        _frame = frame;
        _threads = threads;
        try
        {
            for (int layer = 0; layer < shape.NumLayers; layer++)
            {
                (_layer, _recurrence) = (layer, false);
                RunPhase(shape.NumDirections * threads, threads);
                _recurrence = true;
                RunPhase(shape.NumDirections * threads, threads);
            }
        }
        finally
        {
            _frame = default; // the pointers are valid only during the call
        }
    }

    protected override void RunPart(int index)
    {
        int d = index / _threads, part = index % _threads;
        if (_recurrence)
        {
            (int first, int rows) = Parallelism.Split(_frame.Batch, part, _threads, Parallelism.RowAlignment);
            if (rows > 0)
                RnnDriver.Recur(ref _kernels, _shape, _frame, _layer, d, first, rows);
        }
        else
        {
            // Sequence-first rows are split on row-block boundaries; batch-first time steps each make a whole call.
            int units = RnnDriver.ProjectionUnits(_shape, _frame);
            (int first, int count) = Parallelism.Split(units, part, _threads, _shape.BatchFirst ? 1 : Parallelism.RowAlignment);
            if (count > 0)
                RnnDriver.ProjectLayer(ref _kernels, _shape, _frame, _layer, d, first, count);
        }
    }
}

/// <summary>A cell's step split over threads: one phase, each part projects and steps its own batch rows.</summary>
internal sealed class CellJob<TKernels> : SplitJob
    where TKernels : struct, IRnnKernels
{
    private TKernels _kernels;
    private RnnShape _shape;
    private CellFrame _frame;
    private int _threads;

    /// <summary>Runs the step of <paramref name="frame"/> on up to <paramref name="threads"/> threads, this one included.</summary>
    public void Run(ref TKernels kernels, in RnnShape shape, in CellFrame frame, int threads)
    {
        _kernels = kernels;
        _shape = shape;
        _frame = frame;
        _threads = threads;
        try
        {
            RunPhase(threads, threads);
        }
        finally
        {
            _frame = default;
        }
    }

    protected override void RunPart(int index)
    {
        (int first, int rows) = Parallelism.Split(_frame.Batch, index, _threads, Parallelism.RowAlignment);
        if (rows > 0)
            RnnDriver.CellRows(ref _kernels, _shape, _frame, first, rows);
    }
}

/// <summary>
/// One row's step split over threads by tiles of hidden units (<see cref="IRnnKernels.StepRowTiles"/>): a batch of one
/// whose weights are large (<see cref="IRnnKernels.RowParts"/>), one step. Every part reads x and hPrev whole and
/// writes only its own tiles' h, c and pre, so the parts are independent.
/// </summary>
internal sealed unsafe class RowTilesJob<TKernels> : SplitJob
    where TKernels : struct, IRnnKernels
{
    private TKernels _kernels;
    private int _layer, _tiles, _parts;
    private float* _x, _hPrev, _pre, _h, _c;

    /// <summary>
    /// One step of layer <paramref name="layer"/>'s row on up to <paramref name="parts"/> threads, this one included
    /// (arguments as <see cref="IRnnKernels.StepRowTiles"/>'s).
    /// The memory must stay where it is for the call (pinned or native).
    /// </summary>
    public void Step(ref TKernels kernels, int layer, float* x, float* hPrev, float* pre, float* h, float* c, int parts)
    {
        (_kernels, _layer, _tiles, _parts) = (kernels, layer, kernels.RowTiles, parts);
        if (_tiles < parts)
            throw new System.InvalidOperationException($"The kernels split a row into {parts} parts but have {_tiles} tiles of units (IRnnKernels.RowTiles).");
        _x = x;
        _hPrev = hPrev;
        _pre = pre;
        _h = h;
        _c = c;
        try
        {
            RunPhase(parts, parts);
        }
        finally
        {
            _x = _hPrev = _pre = _h = _c = null; // valid only during the call
        }
    }

    protected override void RunPart(int index)
    {
        // Part 0, the last range of tiles (the larger of an uneven split), is usually the caller's: it starts claiming right
        // after posting the helpers. Whoever runs a part, each tile is computed once, by the same kernel.
        (int first, int count) = Parallelism.Split(_tiles, _parts - 1 - index, _parts, 1);
        if (count > 0)
            _kernels.StepRowTiles(_layer, 0, ref *_x, ref *_hPrev, ref *_pre, ref *_h, ref *_c, first, first + count);
    }
}
