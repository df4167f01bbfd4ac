<?php

declare(strict_types=1);

namespace App\Support;

/** Reed-Solomon error correction codewords over GF(256), with the QR code's polynomial 0x11D. */
final class ReedSolomon
{
    /**
     * The remainder of data(x)·x^n divided by the generator (x - α^0)…(x - α^(n-1)): the n codewords
     * a QR block appends to its data.
     *
     * @param  int[]  $data
     * @return int[]
     */
    public static function remainder(array $data, int $n): array
    {
        $generator = self::generator($n);
        $rem = array_fill(0, $n, 0);
        foreach ($data as $byte) {
            $factor = $byte ^ array_shift($rem);
            $rem[] = 0;
            foreach ($generator as $i => $coefficient) {
                $rem[$i] ^= self::multiply($coefficient, $factor);
            }
        }

        return $rem;
    }

    /** @return int[] the generator's coefficients below the leading 1, highest degree first */
    private static function generator(int $n): array
    {
        $poly = [1];
        for ($i = 0, $root = 1; $i < $n; $i++, $root = self::multiply($root, 2)) {
            // poly · (x + α^i); in GF(2^8) minus is plus.
            $next = array_fill(0, count($poly) + 1, 0);
            foreach ($poly as $j => $coefficient) {
                $next[$j] ^= $coefficient;
                $next[$j + 1] ^= self::multiply($coefficient, $root);
            }
            $poly = $next;
        }

        return array_slice($poly, 1);
    }

    private static function multiply(int $a, int $b): int
    {
        $product = 0;
        for ($bit = 7; $bit >= 0; $bit--) {
            $product = ($product << 1) ^ (($product >> 7) * 0x11D);
            $product ^= (($b >> $bit) & 1) * $a;
        }

        return $product;
    }
}
