import { assert, assertEquals } from "../helpers/assert.ts";
import { isSlug, SLUG_MAX, slugify } from "../../src/session/slug.ts";

Deno.test("slugify keeps tags that are already safe names exactly (file names as the seed's)", () => {
  for (const tag of ["load_data", "train", "Persist-Model_2", "_private", "a__b", "-x-", "X"]) {
    assertEquals(slugify(tag), tag);
  }
});

Deno.test("slugify rewrites unsafe characters, one _ per run, dropping runs at either end", () => {
  const cases: [string, string][] = [
    ["load data", "load_data"],
    ["load   data", "load_data"],
    [" train ", "train"],
    ["a/b\\c", "a_b_c"],
    ["feature engineering / v2", "feature_engineering_v2"],
    ["model.v1.2", "model_v1_2"],
    ["données", "donn_es"],
    ["训练 model", "model"],
    ["emoji 🚀 launch", "emoji_launch"],
    ["tab\tand\nnewline", "tab_and_newline"],
    ["50%", "50"],
  ];
  for (const [tag, slug] of cases) assertEquals(slugify(tag), slug, tag);
});

Deno.test("slugify never yields a path: no dots, no separators, no parent dirs", () => {
  for (
    const tag of ["../x", "../../etc/passwd", "..", ".", ".hidden", "a/../../b", "/abs", "C:\\win", "x/.."]
  ) {
    const slug = slugify(tag);
    assert(isSlug(slug), `${tag} -> ${slug}`);
    assert(!slug.includes(".") && !slug.includes("/") && !slug.includes("\\"), slug);
  }
  assertEquals(slugify("../x"), "x");
  assertEquals(slugify(".hidden"), "hidden");
});

Deno.test("slugify falls back to `step` when nothing is left", () => {
  for (const tag of ["", "   ", "..", "/", "数据", "🚀🚀"]) {
    assertEquals(slugify(tag), "step", JSON.stringify(tag));
  }
});

Deno.test("slugify caps at 60 characters", () => {
  const long = "a".repeat(200);
  assertEquals(slugify(long), "a".repeat(SLUG_MAX));
  assertEquals(slugify("é".repeat(10) + "b".repeat(200)).length, SLUG_MAX);
  assertEquals(slugify("x y".repeat(100)).length, SLUG_MAX);
});
