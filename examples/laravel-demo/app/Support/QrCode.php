<?php

declare(strict_types=1);

namespace App\Support;

use InvalidArgumentException;

/**
 * A QR code (ISO/IEC 18004) for short texts such as a login URL, drawn as an SVG, so the demo needs
 * no image library and no network. Byte mode, error correction level M, versions 1 to 6: up to 106
 * bytes. The mask is the one with the lowest penalty score, as the standard asks.
 */
final class QrCode
{
    /** Per version at level M: data codewords (all blocks together), EC codewords per block, blocks. */
    private const VERSIONS = [1 => [16, 10, 1], 2 => [28, 16, 1], 3 => [44, 26, 1],
        4 => [64, 18, 2], 5 => [86, 24, 2], 6 => [108, 16, 4]];

    /** @var array<int, array<int, bool>> dark modules, [row][column] */
    private array $dark = [];

    /** @var array<int, array<int, bool>> finder, timing, alignment and format modules: never masked */
    private array $fixed = [];

    private int $size;

    private function __construct(private int $version)
    {
        $this->size = 17 + 4 * $version;
    }

    /** The code for `$text` as an SVG document; `$mask` (0-7) forces a mask, for tests. */
    public static function svg(string $text, int $scale = 6, ?int $mask = null): string
    {
        $matrix = self::encode($text, $mask);
        $quiet = 4;
        $side = count($matrix) + 2 * $quiet;
        $path = '';
        foreach ($matrix as $y => $row) {
            foreach ($row as $x => $isDark) {
                $path .= $isDark ? sprintf('M%d %dh1v1h-1z', $x + $quiet, $y + $quiet) : '';
            }
        }

        return sprintf('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d"'
            .' shape-rendering="crispEdges"><rect width="100%%" height="100%%" fill="#fff"/><path d="%s"/></svg>',
            $side * $scale, $side * $scale, $side, $side, $path);
    }

    /** @return array<int, array<int, bool>> the modules, [row][column], true for dark */
    public static function encode(string $text, ?int $mask = null): array
    {
        $version = self::versionFor(strlen($text));
        [, $ecPerBlock, $blocks] = self::VERSIONS[$version];
        $code = new self($version);
        $code->drawFunctionPatterns();
        $code->drawData(self::interleave(self::dataCodewords($text, $version), $ecPerBlock, $blocks));
        $masks = $mask === null ? range(0, 7) : [$mask];
        $best = null;
        foreach ($masks as $candidate) {
            $masked = $code->withMask($candidate);
            $score = $masked->penalty();
            if ($best === null || $score < $best[0]) {
                $best = [$score, $masked];
            }
        }

        return $best[1]->dark;
    }

    private static function versionFor(int $bytes): int
    {
        foreach (self::VERSIONS as $version => [$dataCodewords]) {
            // 4 bits of mode, 8 of length (versions 1-9), then the bytes.
            if (12 + 8 * $bytes <= 8 * $dataCodewords) {
                return $version;
            }
        }
        throw new InvalidArgumentException("QR text too long: $bytes bytes, at most 106");
    }

    /** @return int[] mode, length, bytes, terminator and padding, as codewords */
    private static function dataCodewords(string $text, int $version): array
    {
        $capacity = self::VERSIONS[$version][0];
        $bits = '0100'.sprintf('%08b', strlen($text));
        foreach (str_split($text) as $char) {
            $bits .= sprintf('%08b', ord($char));
        }
        $bits .= str_repeat('0', min(4, 8 * $capacity - strlen($bits)));
        $bits .= str_repeat('0', (8 - strlen($bits) % 8) % 8);
        $codewords = array_map('bindec', str_split($bits, 8));
        for ($pad = 0; count($codewords) < $capacity; $pad++) {
            $codewords[] = $pad % 2 === 0 ? 0xEC : 0x11;
        }

        return $codewords;
    }

    /**
     * Splits the data into equal blocks (all these versions have equal ones), appends each block's
     * Reed-Solomon codewords, and interleaves: the order the modules are read in.
     *
     * @param  int[]  $data
     * @return int[]
     */
    private static function interleave(array $data, int $ecPerBlock, int $blocks): array
    {
        $dataBlocks = array_chunk($data, intdiv(count($data), $blocks));
        $ecBlocks = array_map(fn (array $block) => ReedSolomon::remainder($block, $ecPerBlock), $dataBlocks);
        $out = [];
        foreach ([$dataBlocks, $ecBlocks] as $group) {
            for ($i = 0; $i < count($group[0]); $i++) {
                foreach ($group as $block) {
                    $out[] = $block[$i];
                }
            }
        }

        return $out;
    }

    private function set(int $x, int $y, bool $isDark): void
    {
        $this->dark[$y][$x] = $isDark;
        $this->fixed[$y][$x] = true;
    }

    private function drawFunctionPatterns(): void
    {
        $this->dark = array_fill(0, $this->size, array_fill(0, $this->size, false));
        $this->fixed = $this->dark;
        for ($i = 0; $i < $this->size; $i++) {
            $this->set(6, $i, $i % 2 === 0);
            $this->set($i, 6, $i % 2 === 0);
        }
        $far = $this->size - 7;
        foreach ([[3, 3], [$far + 3, 3], [3, $far + 3]] as [$cx, $cy]) {
            $this->drawSquare($cx, $cy, 4, fn (int $ring) => $ring !== 2 && $ring !== 4);
        }
        if ($this->version > 1) {
            // Versions 2-6 have one alignment pattern; the others would overlap the finders.
            $this->drawSquare($far, $far, 2, fn (int $ring) => $ring !== 1);
        }
        $this->drawFormat(0); // reserves the format areas; the real bits come with the mask
    }

    /** Concentric rings around (cx, cy), ring 0 the centre, up to `$radius`, dark where `$isDark`. */
    private function drawSquare(int $cx, int $cy, int $radius, callable $isDark): void
    {
        for ($dy = -$radius; $dy <= $radius; $dy++) {
            for ($dx = -$radius; $dx <= $radius; $dx++) {
                $x = $cx + $dx;
                $y = $cy + $dy;
                if ($x >= 0 && $y >= 0 && $x < $this->size && $y < $this->size) {
                    $this->set($x, $y, $isDark(max(abs($dx), abs($dy))));
                }
            }
        }
    }

    /** Level M (00) and the mask, BCH-protected and XOR-ed as the standard says, in both copies. */
    private function drawFormat(int $mask): void
    {
        $data = (0b00 << 3) | $mask;
        $rem = $data;
        for ($i = 0; $i < 10; $i++) {
            $rem = ($rem << 1) ^ (($rem >> 9) * 0x537);
        }
        $bits = (($data << 10) | $rem) ^ 0x5412;
        $bit = fn (int $i) => (($bits >> $i) & 1) === 1;
        // First copy around the top-left finder, stepping over the timing patterns at 6.
        for ($i = 0; $i < 15; $i++) {
            $along = [0, 1, 2, 3, 4, 5, 7, 8, 7, 5, 4, 3, 2, 1, 0][$i];
            $i < 8 ? $this->set(8, $along, $bit($i)) : $this->set($along, 8, $bit($i));
        }
        // Second copy: bits 0-7 under the top-right finder, 8-14 beside the bottom-left one.
        for ($i = 0; $i < 15; $i++) {
            $i < 8 ? $this->set($this->size - 1 - $i, 8, $bit($i)) : $this->set(8, $this->size - 15 + $i, $bit($i));
        }
        $this->set(8, $this->size - 8, true); // the "dark module"
    }

    /** @param int[] $codewords placed two columns at a time, zigzagging up and down from the right */
    private function drawData(array $codewords): void
    {
        $total = 8 * count($codewords);
        $i = 0;
        for ($right = $this->size - 1; $right >= 1; $right -= 2) {
            if ($right === 6) {
                $right = 5; // the vertical timing pattern
            }
            $upward = (($right + 1) & 2) === 0;
            for ($step = 0; $step < $this->size; $step++) {
                $y = $upward ? $this->size - 1 - $step : $step;
                foreach ([$right, $right - 1] as $x) {
                    if (! $this->fixed[$y][$x] && $i < $total) {
                        $this->dark[$y][$x] = (($codewords[$i >> 3] >> (7 - ($i & 7))) & 1) === 1;
                        $i++;
                    }
                }
            }
        }
    }

    private function withMask(int $mask): self
    {
        $masked = clone $this;
        $flip = [
            fn ($x, $y) => ($x + $y) % 2 === 0,
            fn ($x, $y) => $y % 2 === 0,
            fn ($x, $y) => $x % 3 === 0,
            fn ($x, $y) => ($x + $y) % 3 === 0,
            fn ($x, $y) => (intdiv($x, 3) + intdiv($y, 2)) % 2 === 0,
            fn ($x, $y) => ($x * $y) % 2 + ($x * $y) % 3 === 0,
            fn ($x, $y) => (($x * $y) % 2 + ($x * $y) % 3) % 2 === 0,
            fn ($x, $y) => ((($x + $y) % 2) + ($x * $y) % 3) % 2 === 0,
        ][$mask];
        for ($y = 0; $y < $this->size; $y++) {
            for ($x = 0; $x < $this->size; $x++) {
                if (! $this->fixed[$y][$x] && $flip($x, $y)) {
                    $masked->dark[$y][$x] = ! $this->dark[$y][$x];
                }
            }
        }
        $masked->drawFormat($mask);

        return $masked;
    }

    /** The standard's four penalty rules: long runs, 2x2 blocks, finder look-alikes, dark balance. */
    private function penalty(): int
    {
        $lines = $this->dark;
        for ($x = 0; $x < $this->size; $x++) {
            $lines[] = array_column($this->dark, $x);
        }
        $score = 0;
        foreach ($lines as $line) {
            $text = implode('', array_map('intval', $line));
            preg_match_all('/0{5,}|1{5,}/', $text, $runs);
            foreach ($runs[0] as $run) {
                $score += strlen($run) - 2;
            }
            $score += 40 * (substr_count($text, '10111010000') + substr_count($text, '00001011101'));
        }
        $darkCount = 0;
        for ($y = 0; $y < $this->size; $y++) {
            $darkCount += count(array_filter($this->dark[$y]));
            for ($x = 0; $y + 1 < $this->size && $x + 1 < $this->size; $x++) {
                $block = [$this->dark[$y][$x], $this->dark[$y][$x + 1], $this->dark[$y + 1][$x], $this->dark[$y + 1][$x + 1]];
                $score += count(array_unique($block)) === 1 ? 3 : 0;
            }
        }

        return $score + 10 * intdiv(abs(intdiv(100 * $darkCount, $this->size ** 2) - 50), 5);
    }
}
