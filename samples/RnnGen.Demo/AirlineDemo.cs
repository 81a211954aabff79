using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using RnnGen.Dynamic;
using RnnGen.Training;

namespace RnnGen.Demo;

/// <summary>
/// The tutorial's next lesson: predict next month's airline passengers from the previous twelve months with a
/// recurrent network and a linear head, trained with Adam on the first two thirds of the series and
/// tested on the last third (Box &amp; Jenkins' monthly totals, 1949-1960, in thousands).
/// </summary>
internal static class AirlineDemo
{
    private const int Window = 12;
    private const int Epochs = 600;
    private const int LearningRateHalfLife = 150;
    private const int ReportEvery = 100;

    public static void Run()
    {
        float[] series = Load();
        int trainMonths = series.Length * 2 / 3;
        // Min-max scaling fitted on the training months only, so nothing leaks from the test period, onto
        // [0, 0.5]: the test months run up to about twice the training range, and an LSTM's h stays in (-1, 1).
        float min = series.Take(trainMonths).Min(), max = series.Take(trainMonths).Max();
        float scale = 2 * (max - min);
        float[] scaled = series.Select(v => (v - min) / scale).ToArray();

        // Windows: twelve months in, the next month out. A window belongs to the test set when its target does.
        int windows = series.Length - Window;
        int trainCount = trainMonths - Window, testCount = windows - trainCount;
        float[] Inputs(int first, int count) => Enumerable.Range(first, count).SelectMany(i => scaled.Skip(i).Take(Window)).ToArray();
        float[] Targets(int first, int count) => Enumerable.Range(first, count).Select(i => scaled[i + Window]).ToArray();
        float[] trainX = Inputs(0, trainCount), trainY = Targets(0, trainCount);
        float[] testX = Inputs(trainCount, testCount);

        Console.WriteLine($"\nTime series: {series.Length} months of airline passengers; windows of {Window} months -> next month; " +
            $"{trainCount} training windows (1949-{1949 + trainMonths / 12 - 1}), {testCount} test windows.");
        var rnn = new PassengerLstm(seed: 3);
        var head = new Linear(PassengerLstm.HiddenSize, 1, seed: 4);
        var optimizer = new Adam(new[] { (rnn.Parameters, rnn.Gradients), (head.Parameters, head.Gradients) }, lr: 0.01f);
        Console.WriteLine($"Model: [Lstm(1, {PassengerLstm.HiddenSize}, BatchFirst = true)] + Linear({PassengerLstm.HiddenSize}, 1), Adam(lr 0.01, halved every {LearningRateHalfLife} epochs), full batch, {Epochs} epochs");

        var buffers = new Buffers(trainCount);
        var stopwatch = new Stopwatch();
        for (int epoch = 1; epoch <= Epochs; epoch++)
        {
            // Halved every 150 epochs: at a constant 0.01 the full-batch loss climbs again after ~300 epochs, and where
            // it ends depends on the last bits of the arithmetic (the test error moved from 54 to 126 passengers with a
            // change of σ's rounding).
            if (epoch % LearningRateHalfLife == 0)
                optimizer.LearningRate *= 0.5f;
            stopwatch.Start();
            float loss = TrainStep(rnn, head, optimizer, trainX, trainY, buffers);
            stopwatch.Stop();
            if (epoch % ReportEvery == 0 || epoch == 1)
                Console.WriteLine($"  epoch {epoch,4}: training MSE {loss:F5} (scaled), RMSE {MathF.Sqrt(loss) * scale,6:F1} passengers");
        }
        double stepMicroseconds = stopwatch.Elapsed.TotalMicroseconds / Epochs;

        float[] trainPrediction = Predict(rnn, head, trainX, trainCount).Select(v => v * scale + min).ToArray();
        float[] testPrediction = Predict(rnn, head, testX, testCount).Select(v => v * scale + min).ToArray();
        double trainRmse = Rmse(trainPrediction, series.Skip(Window).Take(trainCount).ToArray());
        double testRmse = Rmse(testPrediction, series.Skip(trainMonths).ToArray());
        Console.WriteLine($"Train RMSE {trainRmse:F1} passengers, test RMSE {testRmse:F1} passengers (thousands per month; series mean {series.Average():F0})");
        Console.WriteLine($"One training step (forward + backward through {Window} steps x {trainCount} windows + Adam): {stepMicroseconds:F0} µs on average over {Epochs} epochs");
        Console.WriteLine($"Plot: {Plot(series, trainPrediction, testPrediction, trainMonths)}");
        SaveAndReload(rnn, head, testX, testCount);
    }

    /// <summary>
    /// The trained model to one safetensors file with PyTorch's state_dict keys (lstm.*, head.*: what
    /// <c>model.load_state_dict(load_file(...))</c> reads for a module with <c>self.lstm</c> and <c>self.head</c>), then back
    /// into fresh modules: the predictions must be identical, bit for bit.
    /// </summary>
    private static void SaveAndReload(PassengerLstm rnn, Linear head, float[] testX, int testCount)
    {
        string path = Path.GetFullPath("airline-model.safetensors");
        SafetensorsFile.Write(path, new[] { ("lstm.", rnn.Parameters), ("head.", head.Parameters) });
        var freshRnn = new PassengerLstm(seed: 11);
        var freshHead = new Linear(PassengerLstm.HiddenSize, 1, seed: 12);
        SafetensorsFile file = SafetensorsFile.Read(path);
        file.LoadInto(freshRnn.Parameters, "lstm.");
        file.LoadInto(freshHead.Parameters, "head.");
        float[] before = Predict(rnn, head, testX, testCount), after = Predict(freshRnn, freshHead, testX, testCount);
        float maxDifference = before.Zip(after, (a, b) => MathF.Abs(a - b)).Max();
        Console.WriteLine($"Saved to {path} ({new FileInfo(path).Length:N0} bytes, keys {string.Join(", ", file.Keys.Take(3))}, ...); " +
            $"loaded into fresh modules: max |difference| of the {testCount} test predictions = {maxDifference}");
    }

    /// <summary>Reusable arrays, so that a training step allocates nothing.</summary>
    private sealed class Buffers(int batch)
    {
        public readonly float[] Output = new float[Window * batch * PassengerLstm.HiddenSize];
        public readonly float[] HN = new float[batch * PassengerLstm.HiddenSize];
        public readonly float[] CN = new float[batch * PassengerLstm.HiddenSize];
        public readonly float[] Last = new float[batch * PassengerLstm.HiddenSize];
        public readonly float[] Prediction = new float[batch];
        public readonly float[] GradPrediction = new float[batch];
        public readonly float[] GradLast = new float[batch * PassengerLstm.HiddenSize];
        public readonly float[] GradOutput = new float[Window * batch * PassengerLstm.HiddenSize];
    }

    private static float TrainStep(PassengerLstm rnn, Linear head, Adam optimizer, float[] x, float[] y, Buffers b)
    {
        int batch = y.Length, hidden = PassengerLstm.HiddenSize;
        optimizer.ZeroGrad();
        rnn.Forward(x, Window, batch, b.Output, b.HN, b.CN, training: true);
        // The state after the last month of each window (batch-first output: window b's row t at b·12 + t).
        for (int i = 0; i < batch; i++)
            b.Output.AsSpan(((i * Window) + Window - 1) * hidden, hidden).CopyTo(b.Last.AsSpan(i * hidden, hidden));
        head.Forward(b.Last, batch, b.Prediction, training: true);
        float loss = TrainingFunctions.MseLoss(b.Prediction, y, b.GradPrediction);
        head.Backward(b.GradPrediction, b.GradLast);
        for (int i = 0; i < batch; i++)
            b.GradLast.AsSpan(i * hidden, hidden).CopyTo(b.GradOutput.AsSpan(((i * Window) + Window - 1) * hidden, hidden));
        rnn.Backward(b.GradOutput, default, default, default, default, default);
        optimizer.Step();
        return loss;
    }

    private static float[] Predict(PassengerLstm rnn, Linear head, float[] x, int batch)
    {
        var (output, _, _) = rnn.Forward(x, Window, batch);
        var last = new float[batch * PassengerLstm.HiddenSize];
        for (int i = 0; i < batch; i++)
            output.AsSpan(((i * Window) + Window - 1) * PassengerLstm.HiddenSize, PassengerLstm.HiddenSize).CopyTo(last.AsSpan(i * PassengerLstm.HiddenSize));
        var prediction = new float[batch];
        head.Forward(last, batch, prediction);
        return prediction;
    }

    private static double Rmse(float[] prediction, float[] actual) =>
        Math.Sqrt(prediction.Zip(actual, (p, a) => (double)(p - a) * (p - a)).Average());

    private static float[] Load()
    {
        using Stream stream = typeof(AirlineDemo).Assembly.GetManifestResourceStream("airline-passengers.csv")
            ?? throw new InvalidOperationException("The embedded airline-passengers.csv is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Skip(1)
            .Select(line => float.Parse(line.Split(',')[1], CultureInfo.InvariantCulture))
            .ToArray();
    }

    private static string Plot(float[] series, float[] trainPrediction, float[] testPrediction, int trainMonths)
    {
        var plot = new ScottPlot.Plot();
        double[] Months(int first, int count) => Enumerable.Range(first, count).Select(i => 1949 + i / 12.0).ToArray();
        var actual = plot.Add.Scatter(Months(0, series.Length), series.Select(v => (double)v).ToArray());
        actual.LegendText = "actual";
        actual.MarkerSize = 0;
        var train = plot.Add.Scatter(Months(Window, trainPrediction.Length), trainPrediction.Select(v => (double)v).ToArray());
        train.LegendText = "predicted (training months)";
        train.MarkerSize = 0;
        var test = plot.Add.Scatter(Months(trainMonths, testPrediction.Length), testPrediction.Select(v => (double)v).ToArray());
        test.LegendText = "predicted (test months)";
        test.MarkerSize = 0;
        plot.Add.VerticalLine(1949 + trainMonths / 12.0).LinePattern = ScottPlot.LinePattern.Dashed;
        plot.Title("Airline passengers: RnnGen Lstm(1, 32) + Linear, one month ahead");
        plot.XLabel("year");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = v => v.ToString("0", CultureInfo.InvariantCulture) };
        plot.YLabel("passengers (thousands)");
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        string path = Path.GetFullPath("airline-forecast.png");
        plot.SavePng(path, 1000, 560);
        return path;
    }
}
