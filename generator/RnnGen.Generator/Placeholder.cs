namespace RnnGen.Generator; internal static class Placeholder { }
