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
//  S       title words                               free      S蓄電池 (no positions: the title's words
//                                                              stand at the same positions in the body;
//                                                              core/terms.h positional(), schema 7)
//  (none)  body words, title words included          free      蓄電 (positional; an inflected word's
//                                                              surface, 進め of 進める, has none: core/terms.h
//                                                              surface_has_positions(), schema 7)
//  XG      kanji bigrams of kanji runs (compound     free      XG電池 (no positions)
//          parts: 電池 inside 蓄電池)
//  R       katakana reading TAB the word it reads    metadata  Rハンドウタイ\t半導体: a key of the first
//          (core/terms.h reading())                            database's metadata, not a document term
//                                                              (schema 6; the query asks for the word)
//  XS      spending form (支出形態)                   boolean   XS補助
//  XP      subsidy rate (補助率)                      boolean   XP2/3
//
//  slot  content                                    encoding
//  ----  -----------------------------------------  ----------------------------------------
//  0     fiscal-year amount in yen                  Xapian::sortable_serialise (absent: no amount); sort
//                                                   and amount range
//  6     fiscal year, sortable                      Xapian::sortable_serialise
//  7     source line (first)                        Xapian::sortable_serialise, for a stable order
//  11    bureau→division pairs, one per line        "局\t課" (the division facet's parent, core/facets.h)
//  12    sheet id                                   the id as in Q: breaks ties of equal scores, so that the
//                                                   order never depends on docids (which differ between one
//                                                   database, merged parts and shards)
//  13    facet record                               every facet's values and the two amounts, packed
//                                                   (core/facets.h facet_record): the counts and totals
//                                                   read this one value per match
//  14    amount in yen, ascending sort key          Xapian::sortable_serialise; no amount: the largest
//                                                   double (last when sorted by amount, smallest first)
//  15    fiscal year, ascending sort key            the same for the year
//  16    order of ties                              Xapian::sortable_serialise(tie_weight(id)) (below)
//  (1–5, 8–10 held one facet each up to schema 4; the record replaced them.)
//
// Orders are plain value sorts (Enquire::set_sort_by_value*), never a KeyMaker: Xapian 1.4's remote
// backend (xapian-tcpsrv shards) refuses KeyMakers. A descending order uses slot 0 or 6 reversed (no
// value sorts last either way); an ascending one slot 14 or 15. Ties of the sort value fall to relevance,
// and where there are no words to rank by, relevance is slot 16, read by a ValueWeightPostingSource
// (which xapian-tcpsrv runs too): a weight from the sheet id, so that ties never fall to docids, which
// differ between one database, merged parts and shards.
//
// Document data is the sheet's compact JSON (core/sheet.h, Sheet::to_json), compressed by zstd against a
// dictionary compiled into the binary (core/document_data.h; plain JSON up to schema 6).
#pragma once

#include <string_view>

#include <xapian.h>

#include "core/hash.h"

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
inline constexpr Xapian::valueno kSlotYearSortable = 6;
inline constexpr Xapian::valueno kSlotLine = 7;
inline constexpr Xapian::valueno kSlotBureauPairs = 11;
inline constexpr Xapian::valueno kSlotId = 12;
inline constexpr Xapian::valueno kSlotFacetRecord = 13;
inline constexpr Xapian::valueno kSlotAmountAscending = 14;
inline constexpr Xapian::valueno kSlotYearAscending = 15;
inline constexpr Xapian::valueno kSlotTieWeight = 16;

// The weight that orders ties where there are no words (slot 16): 52 bits of the id's hash, exact in a
// double; two ids share one with a chance of about n²/2^53 (10^-6 at 10^5 sheets).
inline double tie_weight(std::string_view id) { return static_cast<double>(fnv1a(id) >> 12); }

// Metadata keys stored in the database.
inline constexpr std::string_view kMetaIndexedAt = "yosan:indexed_at";
inline constexpr std::string_view kMetaSchema = "yosan:schema";
// analysis_fingerprint() (core/config.h) of the run that last committed: dictionaries and character fixes.
inline constexpr std::string_view kMetaAnalysis = "yosan:analysis";
inline constexpr std::string_view kSchemaVersion = "7";

}  // namespace yosan::schema
