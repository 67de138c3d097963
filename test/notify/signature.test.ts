/** Webhook signatures: what a receiver checks with {@link verifySignature}. */
import { expect } from "chai";
import { createHmac } from "node:crypto";
import { signBody, verifySignature } from "../../src/notify/signature.js";

describe("notify: webhook signature", function () {
  const body = JSON.stringify({ id: "paused:0xabc:3", type: "paused" });

  it("is sha256=<hex HMAC-SHA256 of the raw body>", function () {
    expect(signBody(body, "s3cret")).to.equal(`sha256=${createHmac("sha256", "s3cret").update(body).digest("hex")}`);
  });

  it("verifies the right body and secret only", function () {
    const sig = signBody(body, "s3cret");
    expect(verifySignature(body, "s3cret", sig)).to.equal(true);
    expect(verifySignature(body + " ", "s3cret", sig), "tampered body").to.equal(false);
    expect(verifySignature(body, "other", sig), "wrong secret").to.equal(false);
    expect(verifySignature(body, "s3cret", undefined), "no header").to.equal(false);
    expect(verifySignature(body, "s3cret", sig.slice(0, -1)), "truncated").to.equal(false);
  });
});
