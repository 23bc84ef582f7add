// The index schema: every term prefix and value slot yosan uses, in one place (after Omega's
// docs/termprefixes.rst). The indexer writes these and the searcher reads them; nothing else may invent one.
//
//  prefix  meaning                                   kind      example
//  ------  ----------------------------------------  --------  ------------------------------------------
//  Q       unique sheet id                           boolean   Qk7f3a9c2e1b0
//  XB      bureau, top unit (局・庁・グループ・官房)   boolean   XB製造産業局
//  XD      division under it (部・課・室)             boolean   XD宇宙産業課
//  Y       fiscal year (western)                     boolean   Y2025
//  XK      budget kind                               boolean   XK補正
//  XA      amount bucket index (0 = smallest)        boolean   XA2
//  XF      source file (normalised path)             boolean   XF/data/meti.txt
//  S       title words                               free      S蓄電池 (positional)
//  (none)  body words, title words included          free      蓄電 (positional)
//  XG      kanji bigrams of kanji runs (compound     free      XG電池 (no positions)
//          parts: 電池 inside 蓄電池)
//  R       katakana reading TAB the word it reads    free      Rハンドウタイ\t半導体 (no positions, wdf 0;
//          (core/terms.h reading())                            the query asks for the word itself)
//  XS      spending form (支出形態)                   boolean   XS補助
//  XP      subsidy rate (補助率)                      boolean   XP2/3
//
//  slot  content                                    encoding
//  ----  -----------------------------------------  ----------------------------------------
//  0     fiscal-year amount in yen                  Xapian::sortable_serialise (absent: no amount)
//  1     fiscal year                                decimal string "2025" (facet) 
//  2     top bureaus, one per line                  UTF-8, '\n'-separated (facet via MultiValueCountSpy)
//  3     kind                                       "当初" | "補正" | "予備費" | "要求"
//  4     amount bucket index                        decimal string "0".."n"
//  5     divisions, one per line                    UTF-8, '\n'-separated
//  6     fiscal year, sortable                      Xapian::sortable_serialise
//  7     source line (first)                        Xapian::sortable_serialise, for a stable order
//  8     spending forms (支出形態), one per line       UTF-8, '\n'-separated (indexer/scheme.h kForms)
//  9     subsidy rates (補助率), one per line          "1/2", "2/3", "10/10", "定額", '\n'-separated
//  10    previous-year amount in yen                Xapian::sortable_serialise (absent: not stated)
//  11    bureau→division pairs, one per line        "局\t課" (the division facet's parent, core/facets.h)
//  12    sheet id                                   the id as in Q: breaks ties of any order, so that the
//                                                   order never depends on docids (which differ between one
//                                                   database, merged parts and shards)
//
// Document data is compact JSON (core/sheet.h, Sheet::to_json).
#pragma once

#include <string_view>

#include <xapian.h>

namespace yosan::schema {

inline constexpr std::string_view kId = "Q";
inline constexpr std::string_view kBureau = "XB";
inline constexpr std::string_view kDivision = "XD";
inline constexpr std::string_view kYear = "Y";
inline constexpr std::string_view kKind = "XK";
inline constexpr std::string_view kBucket = "XA";
inline constexpr std::string_view kFile = "XF";
inline constexpr std::string_view kTitle = "S";
inline constexpr std::string_view kGram = "XG";
inline constexpr std::string_view kReading = "R";
inline constexpr std::string_view kForm = "XS";
inline constexpr std::string_view kRate = "XP";

inline constexpr Xapian::valueno kSlotAmount = 0;
inline constexpr Xapian::valueno kSlotYear = 1;
inline constexpr Xapian::valueno kSlotBureaus = 2;
inline constexpr Xapian::valueno kSlotKind = 3;
inline constexpr Xapian::valueno kSlotBucket = 4;
inline constexpr Xapian::valueno kSlotDivisions = 5;
inline constexpr Xapian::valueno kSlotYearSortable = 6;
inline constexpr Xapian::valueno kSlotLine = 7;
inline constexpr Xapian::valueno kSlotForms = 8;
inline constexpr Xapian::valueno kSlotRates = 9;
inline constexpr Xapian::valueno kSlotPrevious = 10;
inline constexpr Xapian::valueno kSlotBureauPairs = 11;
inline constexpr Xapian::valueno kSlotId = 12;

// Metadata keys stored in the database.
inline constexpr std::string_view kMetaIndexedAt = "yosan:indexed_at";
inline constexpr std::string_view kMetaSchema = "yosan:schema";
// analysis_fingerprint() (core/config.h) of the run that last committed: dictionaries and character fixes.
inline constexpr std::string_view kMetaAnalysis = "yosan:analysis";
inline constexpr std::string_view kSchemaVersion = "4";

}  // namespace yosan::schema
