// The order the host lists storage keys in, shared by the SDK and its stand-in host.

const encoder = new TextEncoder();

/** Orders keys as the host does: by their bytes in UTF-8 (not JavaScript's UTF-16 units). */
export function byUtf8(a, b) {
  const [x, y] = [encoder.encode(a), encoder.encode(b)];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) {
      return x[i] - y[i];
    }
  }
  return x.length - y.length;
}
