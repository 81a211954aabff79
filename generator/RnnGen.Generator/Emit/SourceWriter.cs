using System;
using System.Text;

namespace RnnGen.Generator.Emit;

/// <summary>Writes indented C#; <see cref="Block"/> opens a brace block that closes when disposed.</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _text = new();
    private int _indent;

    public void Line(string line = "")
    {
        if (line.Length > 0)
            _text.Append(' ', _indent * 4).Append(line);
        _text.Append('\n');
    }

    /// <summary>Writes <paramref name="header"/> (none if empty: a bare scope), an opening brace, and indents until disposed.</summary>
    public IDisposable Block(string header)
    {
        if (header.Length > 0)
            Line(header);
        Line("{");
        _indent++;
        return new Closer(this);
    }

    /// <summary>Writes a <c>/// &lt;summary&gt;</c> comment.</summary>
    public void Summary(string text) => Line($"/// <summary>{text}</summary>");

    public override string ToString() => _text.ToString();

    private sealed class Closer : IDisposable
    {
        private SourceWriter? _writer;

        public Closer(SourceWriter writer) => _writer = writer;

        public void Dispose()
        {
            if (_writer is null)
                return;
            _writer._indent--;
            _writer.Line("}");
            _writer = null;
        }
    }
}
