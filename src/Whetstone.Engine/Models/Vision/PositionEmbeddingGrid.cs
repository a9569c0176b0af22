namespace Whetstone.Engine.Models.Vision;

/// <summary>Qwen3-VL's learned absolute positions (fast_pos_embed_interpolate): pos_embed is a
/// side × side table; a gridH × gridW image reads it bilinearly at row coordinates
/// linspace(0, side − 1, gridH) and column coordinates linspace(0, side − 1, gridW), so every image
/// size spans the whole table. Each patch gets four (table row, weight) corners.</summary>
internal static class PositionEmbeddingGrid
{
    /// <summary>The four corners of patch (row, column): floor/ceil of both coordinates, weights
    /// (1−dh)(1−dw), (1−dh)dw, dh(1−dw), dh·dw; the ceiling is clamped to the table's last row.</summary>
    public static (int Index, double Weight)[] Corners(int side, int gridH, int gridW, int row, int column)
    {
        double y = Coordinate(side, gridH, row), x = Coordinate(side, gridW, column);
        int y0 = (int)y, x0 = (int)x, y1 = Math.Min(y0 + 1, side - 1), x1 = Math.Min(x0 + 1, side - 1);
        double dy = y - y0, dx = x - x0;
        return [(y0 * side + x0, (1 - dy) * (1 - dx)), (y0 * side + x1, (1 - dy) * dx), (y1 * side + x0, dy * (1 - dx)), (y1 * side + x1, dy * dx)];
    }

    /// <summary>linspace(0, side − 1, steps)[i]; one step sits at 0, as torch.linspace gives.</summary>
    static double Coordinate(int side, int steps, int i) => steps == 1 ? 0 : (double)i * (side - 1) / (steps - 1);
}
