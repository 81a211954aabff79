using System.Linq;

namespace RnnGen.NamDemo;

internal static class Plots
{
    /// <summary>Input and output over 60 ms of the first note, 0.2 s after the pluck (four seconds of audio would be a solid band).</summary>
    public static void InputAndOutput(string path, int sampleRate, float[] input, float[] output)
    {
        int from = sampleRate / 5, count = sampleRate * 6 / 100;
        double[] time = Enumerable.Range(from, count).Select(i => 1000.0 * i / sampleRate).ToArray();
        var plot = new ScottPlot.Plot();
        var x = plot.Add.ScatterLine(time, input.Skip(from).Take(count).Select(v => (double)v).ToArray());
        x.LegendText = "input (plucked string)";
        var y = plot.Add.ScatterLine(time, output.Skip(from).Take(count).Select(v => (double)v).ToArray());
        y.LegendText = "output (amp model)";
        plot.Title("NAM example LSTM(1, 3) in RnnGen, 64-sample blocks (E2 string, 200-260 ms)");
        plot.XLabel("time (ms)");
        plot.YLabel("amplitude");
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        plot.SavePng(path, 1200, 560);
    }
}
