/**
 * What a torch.save file starts with, checked without loading the readers (the page's import and
 * the file registry decide from these bytes, and load zip.ts and pickle.ts only for a torch file).
 */

/** A zip archive's local file header, "PK\x03\x04": PyTorch ≥ 1.6 writes its files as zips. */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** torch.save's legacy format starts with a pickled magic number (protocol 2: 0x80 0x02 0x8a 0x0a). */
export function isLegacyTorch(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x80 && bytes[1] === 0x02 && bytes[2] === 0x8a && bytes[3] === 0x0a;
}

/** Whether bytes look like a torch.save file (zip or legacy). */
export function isTorchFile(bytes: Uint8Array): boolean {
  return isZip(bytes) || isLegacyTorch(bytes);
}
