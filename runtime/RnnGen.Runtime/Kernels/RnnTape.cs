using System.ComponentModel;

namespace RnnGen.__Internals;

/// <summary>What a training forward recorded for the backward pass, and for which call.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RnnTape
{
    /// <summary>Whether a training forward recorded this tape and no later call invalidated it.</summary>
    public bool IsValid { get; internal set; }

    /// <summary>The recorded call's sequence length.</summary>
    public int SeqLen { get; internal set; }

    /// <summary>The recorded call's batch.</summary>
    public int Batch { get; internal set; }

    /// <summary>Whether the recorded call had an explicit initial state.</summary>
    public bool HasH0 { get; internal set; }

    /// <summary>Whether the recorded call dropped out layer inputs.</summary>
    public bool HasDropout { get; internal set; }

    /// <summary>The parameters' version the recorded call ran with.</summary>
    public long ParameterVersion { get; internal set; }

    /// <summary>Forgets the recording when a later call has another shape.</summary>
    public void Observe(int seqLen, int batch)
    {
        if (IsValid && (seqLen != SeqLen || batch != Batch))
            IsValid = false;
    }
}
