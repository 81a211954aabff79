namespace RnnGen.Generator;

/// <summary>Names of the pipeline steps, so tests can check what the incremental driver cached.</summary>
internal static class TrackingNames
{
    public const string RnnParse = nameof(RnnParse);
    public const string RnnCellParse = nameof(RnnCellParse);
    public const string LstmParse = nameof(LstmParse);
    public const string LstmCellParse = nameof(LstmCellParse);
    public const string GruParse = nameof(GruParse);
    public const string GruCellParse = nameof(GruCellParse);
    public const string Diagnostics = nameof(Diagnostics);
    public const string Specs = nameof(Specs);
    public const string WeightsParse = nameof(WeightsParse);
    public const string WeightsFiles = nameof(WeightsFiles);
    public const string Bake = nameof(Bake);
    public const string BakedSpecs = nameof(BakedSpecs);
    public const string BakedWeights = nameof(BakedWeights);
}
