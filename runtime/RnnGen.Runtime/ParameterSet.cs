using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace RnnGen;

/// <summary>
/// The parameters of a module, as PyTorch's <c>named_parameters()</c> lists them: the same names, order
/// and shapes, each stored row-major in one contiguous buffer.
/// </summary>
/// <remarks>
/// Every member that hands out writable memory (<see cref="this[string]"/>, <see cref="AsSpan"/>,
/// <see cref="CopyFrom"/>) counts as a change: the next call on the module repacks its weights. A writable
/// span is a view that is valid until the next call on the module, like
/// <see cref="CollectionsMarshal.AsSpan{T}(List{T})"/>: take it again after a call to write again.
/// </remarks>
public sealed partial class ParameterSet
{
    private readonly float[] _data;
    private readonly Entry[] _entries;
    private readonly Dictionary<string, int> _index;
    private readonly string[] _names;
    private long _version;

    /// <summary>Creates zero-filled parameters with the given names and shapes, in order.</summary>
    /// <exception cref="ArgumentException">A name repeats, or a shape is empty or has a dimension below 1.</exception>
    public ParameterSet(IReadOnlyList<(string Name, int[] Shape)> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _entries = new Entry[parameters.Count];
        _names = new string[parameters.Count];
        _index = new Dictionary<string, int>(parameters.Count, StringComparer.Ordinal);
        long offset = 0;
        for (int i = 0; i < parameters.Count; i++)
        {
            (string name, int[] shape) = parameters[i];
            ArgumentException.ThrowIfNullOrEmpty(name, nameof(parameters));
            if (shape is null || shape.Length == 0)
                throw new ArgumentException($"Parameter '{name}' has no shape.", nameof(parameters));
            long length = 1;
            foreach (int d in shape)
            {
                if (d < 1)
                    throw new ArgumentException($"Parameter '{name}' has shape ({string.Join(", ", shape)}); every dimension must be at least 1.", nameof(parameters));
                length *= d;
            }
            if (!_index.TryAdd(name, i))
                throw new ArgumentException($"Parameter name '{name}' appears twice.", nameof(parameters));
            _entries[i] = new Entry(name, (int[])shape.Clone(), checked((int)offset), checked((int)length));
            _names[i] = name;
            offset += length;
        }
        _data = new float[checked((int)offset)];
    }

    /// <summary>The parameter names, in PyTorch's <c>named_parameters()</c> order.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>The number of parameters (tensors).</summary>
    public int Count => _entries.Length;

    /// <summary>The number of floats over all parameters.</summary>
    public int TotalLength => _data.Length;

    /// <summary>
    /// A counter that grows whenever writable memory is handed out; modules compare it with the value
    /// they packed their weights at.
    /// </summary>
    public long Version => _version;

    /// <summary>The writable values of the parameter <paramref name="name"/>, row-major in its PyTorch shape.</summary>
    /// <exception cref="KeyNotFoundException">No parameter has that name.</exception>
    public Span<float> this[string name]
    {
        get
        {
            Entry e = _entries[IndexOf(name)];
            _version++;
            return _data.AsSpan(e.Offset, e.Length);
        }
    }

    /// <summary>The values of the parameter <paramref name="name"/>, read-only (not counted as a change).</summary>
    public ReadOnlySpan<float> GetReadOnly(string name)
    {
        Entry e = _entries[IndexOf(name)];
        return new ReadOnlySpan<float>(_data, e.Offset, e.Length);
    }

    /// <summary>The shape of the parameter <paramref name="name"/>, as PyTorch reports it.</summary>
    public ReadOnlySpan<int> GetShape(string name) => _entries[IndexOf(name)].Shape;

    /// <summary>Whether a parameter has this name.</summary>
    public bool Contains(string name) => name is not null && _index.ContainsKey(name);

    /// <summary>All parameters, writable, in order and back to back.</summary>
    public Span<float> AsSpan()
    {
        _version++;
        return _data;
    }

    /// <summary>All parameters, read-only, in order and back to back.</summary>
    public ReadOnlySpan<float> AsReadOnlySpan() => _data;

    /// <summary>Records a change made through memory obtained earlier (for example a pinned buffer).</summary>
    public void MarkChanged() => _version++;

    /// <summary>Copies every value from <paramref name="source"/>, which must have the same names and shapes.</summary>
    /// <exception cref="ArgumentException">The names or shapes differ.</exception>
    public void CopyFrom(ParameterSet source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source._entries.Length != _entries.Length)
            throw new ArgumentException($"Expected {_entries.Length} parameters ({string.Join(", ", _names)}); the source has {source._entries.Length}.", nameof(source));
        for (int i = 0; i < _entries.Length; i++)
        {
            Entry a = _entries[i], b = source._entries[i];
            if (a.Name != b.Name || !a.Shape.AsSpan().SequenceEqual(b.Shape))
                throw new ArgumentException($"Parameter {i} is '{a.Name}' ({string.Join(", ", a.Shape)}) here but '{b.Name}' ({string.Join(", ", b.Shape)}) in the source.", nameof(source));
        }
        source._data.AsSpan().CopyTo(_data);
        _version++;
    }

    /// <summary>
    /// Fills every parameter from U(-bound, +bound), parameter by parameter in order, element by element
    /// row-major, drawing from <see cref="Random"/> with <paramref name="seed"/>: PyTorch's RNN initialisation
    /// with bound = 1/sqrt(hidden_size).
    /// </summary>
    public void InitUniform(int seed, float bound)
    {
        var random = new Random(seed);
        for (int i = 0; i < _data.Length; i++)
            _data[i] = (2f * random.NextSingle() - 1f) * bound;
        _version++;
    }

    /// <summary>The start of the whole buffer, for kernels (internal layout: parameters back to back).</summary>
    internal float[] Data => _data;

    internal int OffsetOf(int index) => _entries[index].Offset;

    private int IndexOf(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_index.TryGetValue(name, out int i))
            return i;
        throw new KeyNotFoundException($"No parameter named '{name}'. The parameters are: {string.Join(", ", _names)}.");
    }

    private readonly record struct Entry(string Name, int[] Shape, int Offset, int Length);
}
