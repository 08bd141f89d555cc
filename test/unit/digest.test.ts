import { describe, expect, it } from "vitest";
import { constantTimeEqual, sha256Hex } from "../../src/digest.js";

describe("digest helpers", () => {
  it("sha256Hex matches the published test vector", () => {
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("constantTimeEqual is true only for identical secrets, whatever their lengths", () => {
    expect(constantTimeEqual("s3cret-token", "s3cret-token")).toBe(true);
    expect(constantTimeEqual("s3cret-token", "s3cret-tokeN")).toBe(false);
    expect(constantTimeEqual("s3cret-token", "s3cret")).toBe(false);
    expect(constantTimeEqual("", "")).toBe(true);
  });
});
