import { describe, expect, it } from "vitest";
import { loadDirectory } from "../../src/core/directory/search.ts";
import { createTownMatcher } from "../../src/core/directory/towns.ts";
import { editDistance, latinKey } from "../../src/core/text.ts";

const d = loadDirectory();
const towns = createTownMatcher(d.places);

describe("town matching", () => {
  it.each([
    ["Шымкент", "kz-shymkent"],
    ["Shymkent", "kz-shymkent"],
    ["shymkent", "kz-shymkent"],
    ["Шимкент", "kz-shymkent"], // a typo
    ["Chimkent", "kz-shymkent"], // the old Russian-based spelling
    ["г. Шымкент", "kz-shymkent"],
    ["Алматы", "kz-almaty-city"],
    ["Almaty", "kz-almaty-city"],
    ["Алма-Ата", "kz-almaty-city"],
    ["Almati", "kz-almaty-city"],
    ["Бишкек", "kg-bishkek"],
    ["Bishkek", "kg-bishkek"],
    ["Бишкек шаары", "kg-bishkek"],
    ["Ош", "kg-osh-city"],
    ["Osh", "kg-osh-city"],
    ["Өскемен", "kz-c-oskemen"],
    ["Усть-Каменогорск", "kz-c-oskemen"],
    ["Уральск", "kz-c-oral"],
    ["Орал", "kz-c-oral"],
    ["Түркістан", "kz-c-turkistan"],
    ["Туркестан", "kz-c-turkistan"],
    ["Turkestan", "kz-c-turkistan"],
    ["Каракол", "kg-c-karakol"],
    ["Қарағанды", "kz-c-karaganda"],
    ["Karaganda", "kz-c-karaganda"],
    ["Ысык-Көл облусу", "kg-issyk-kul"],
    ["Жалал-Абад", "kg-c-jalal-abad"],
    ["Jalal-Abad", "kg-c-jalal-abad"],
    ["Сәтбаев", "kz-c-satpayev"],
  ])("%s → %s", (typed, id) => {
    expect(towns.match(typed)?.id).toBe(id);
  });

  it.each(["привет", "hello", "1", "", "помогите мне пожалуйста", "?".repeat(30)])("nothing for %j", (typed) => {
    expect(towns.match(typed)).toBeNull();
  });
});

describe("text helpers", () => {
  it("writes Kazakh, Kyrgyz, Russian and Latin spellings alike", () => {
    expect(latinKey("Шымкент")).toBe(latinKey("Shymkent"));
    expect(latinKey("Қостанай")).toBe(latinKey("Kostanay"));
    expect(latinKey("Şymkent")).toBe(latinKey("Shymkent"));
  });
  it("counts a swap as one edit", () => {
    expect(editDistance("almaty", "almayt")).toBe(1);
    expect(editDistance("abc", "xyz", 1)).toBe(2);
  });
});
