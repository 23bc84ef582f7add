// yosan-search: ranked, faceted search over the budget-sheet index, on the command line (text or JSON).
// `yosan-search serve` starts the HTTP JSON API and the web page.
//
// Exit status: 0 for any answered query (zero hits included); 2 for a usage error; 1 for anything else
// (a missing index, say).
#include <charconv>
#include <iostream>

#include <boost/program_options.hpp>

#include "core/bureaus.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "core/facets.h"
#include "searcher/export.h"
#include "searcher/search_request.h"
#include "searcher/searcher.h"
#include "searcher/server.h"

namespace po = boost::program_options;
using namespace yosan;

namespace {

// The totals block: one line per fiscal year × kind (never added across kinds), and the sheets without
// an amount counted as such.
void print_totals(const Totals& t, std::ostream& out) {
    if (t.sheets == 0) return;
    out << "金額の合計（年度・予算区分ごと）\n";
    for (const TotalsCell& c : t.cells) {
        int y = 0;
        const bool has_year = std::from_chars(c.year.data(), c.year.data() + c.year.size(), y).ec == std::errc();
        out << "  " << (has_year ? era_year(y) : "年度" + c.year) << " " << (c.kind == kNoValue ? "区分記載なし" : c.kind) << ": "
            << format_yen(c.yen) << "（" << c.sheets << " 件）";
        if (c.with_previous) {
            const std::int64_t d = c.current_of_previous_yen - c.previous_yen;
            out << "  前年度額の記載がある " << c.with_previous << " 件: 前年度 " << format_yen(c.previous_yen) << " → "
                << format_yen(c.current_of_previous_yen) << "（" << (d >= 0 ? "+" : "−") << format_yen(d >= 0 ? d : -d) << "）";
        }
        out << "\n";
    }
    if (t.without_amount) out << "  金額の記載なし: " << t.without_amount << " 件\n";
}

void print_text(const SearchResult& r, const std::string& query, std::ostream& out) {
    out << r.total << " 件";
    if (!query.empty()) out << "（検索語: " << query << "）";
    out << "  " << static_cast<int>(r.milliseconds * 10) / 10.0 << " ms\n";
    for (const RecognisedFilter& f : r.recognised) out << "  条件として解釈: " << f.text << " → " << f.field << "=" << f.value << "\n";
    if (r.relaxation.relaxed) {
        out << "  すべての語を含む資料" << (r.relaxation.complete ? "は " + std::to_string(r.relaxation.complete) + " 件です。" : "はありません。")
            << "一部の語を含む資料" << (r.relaxation.complete ? "も" : "を") << "表示しています（含まれない場合がある語:";
        for (const std::string& w : r.relaxation.dropped) out << " " << w;
        out << "）\n";
    }
    if (r.suggestion) out << "  もしかして: " << *r.suggestion << "\n";
    for (const FilterRemoval& f : r.removable) out << "  条件「" << f.label << "」を外すと " << f.count << " 件\n";
    print_totals(r.totals, out);
    for (const Hit& h : r.hits) {
        const Sheet& s = h.sheet;
        out << "\n" << h.rank << ". " << s.display_title() << "\n";
        if (!s.parent.empty()) out << "   親事業: " << s.parent << (s.sub_label.empty() ? "" : " のうち " + s.sub_label) << "\n";
        out << "   ";
        if (s.year) out << era_year(*s.year) << " ";
        if (s.kind) out << *s.kind << "  ";
        if (s.amount) out << (s.approximate ? "約" : "") << format_yen(*s.amount);
        else out << "金額なし";
        if (s.previous_amount) out << "（前年度 " << format_yen(*s.previous_amount) << "）";
        if (s.is_new) out << "（新規）";
        if (s.total) out << "  総額 " << format_yen(*s.total);
        for (const BureauRef& b : s.bureaus) {
            out << "  " << (b.top.empty() ? "" : b.top);
            for (const std::string& d : b.divisions) out << " " << d;
        }
        out << "\n";
        if (!h.snippet.plain.empty()) out << "   [" << h.snippet.section << "] " << h.snippet.plain << "\n";
        out << "   " << s.location() << "  id=" << s.id << "\n";
    }
    out << "\n絞り込み（件数）\n";
    for (const Facet& f : facets()) {
        const std::string key(f.name);
        const std::string_view label = f.label;
        auto it = r.facets.find(key);
        if (it == r.facets.end() || it->second.empty()) continue;
        out << "  " << label << ": ";
        std::size_t shown = 0;
        for (const FacetValue& v : it->second) {
            if (shown++ == 12) {
                out << " …";
                break;
            }
            out << (shown > 1 ? ", " : "") << v.label << " (" << v.count << ")";
        }
        out << "\n";
    }
}

int run_search(int argc, char** argv) {
    po::options_description opts("yosan-search [options] QUERY...\n       yosan-search serve [--listen 127.0.0.1:8080]");
    std::string config_path, index_path;
    unsigned limit = 10, offset = 0;
    bool json = false;
    std::string format = "text";
    opts.add_options()
        ("help,h", "show this help")
        ("config,c", po::value(&config_path)->default_value(default_config_path()), "config file (TOML)")
        ("index,i", po::value(&index_path), "index directory (overrides the config)");
    // One repeatable option per facet, named as in the HTTP API (core/facets.h).
    for (const Facet& f : facets()) {
        const std::string help = "filter: " + std::string(f.label) + "; repeatable";
        opts.add_options()(std::string(f.name).c_str(), po::value<std::vector<std::string>>()->composing(), help.c_str());
    }
    opts.add_options()
        ("amount-min", po::value<std::string>(), "filter: at least this amount (10億, 500百万, 3000万, 1e9)")
        ("amount-max", po::value<std::string>(), "filter: at most this amount")
        ("sort,s", po::value<std::string>(), "relevance | amount | -amount | year | -year")
        ("limit,n", po::value(&limit), "hits per page (at most 200)")
        ("offset", po::value(&offset), "skip this many hits")
        ("json", po::bool_switch(&json), "print JSON instead of text")
        ("format", po::value(&format), "text | json | csv (csv: every match, not one page, up to 100,000 rows)")
        ("query", po::value<std::vector<std::string>>()->multitoken(), "query words");
    po::positional_options_description pos;
    pos.add("query", -1);
    po::variables_map vm;
    if (!parse_command_line(argc, argv, opts, &pos, vm)) return 0;

    // The options as the parameters of /api/search, so that both front ends read a request the same way.
    Params params;
    if (vm.count("query")) {
        std::string q;
        for (const std::string& w : vm["query"].as<std::vector<std::string>>()) q += (q.empty() ? "" : " ") + w;
        params.emplace("q", q);
    }
    for (const Facet& f : facets())
        if (vm.count(std::string(f.name)))
            for (const std::string& v : vm[std::string(f.name)].as<std::vector<std::string>>()) params.emplace(f.name, v);
    for (const auto& [option, param] : {std::pair{"amount-min", "amount_min"}, std::pair{"amount-max", "amount_max"}, std::pair{"sort", "sort"}})
        if (vm.count(option)) params.emplace(param, vm[option].as<std::string>());

    const Config config = load_config(config_path, index_path);
    const Analyzer analyzer(config.analysis);
    const BureauDirectory directory = config.bureaus_path.empty() ? BureauDirectory{} : BureauDirectory::load(config.bureaus_path);
    SearchRequest req = read_search_request(params, FacetContext{config, directory});
    req.limit = limit;
    req.offset = offset;
    const Synonyms synonyms = Synonyms::load(config.synonyms_path, analyzer);
    Searcher searcher(config, analyzer, directory, synonyms);
    if (auto mismatch = analysis_mismatch(analysis_fingerprint(config), searcher.database())) std::cerr << "yosan-search: 警告: " << *mismatch << "\n";
    if (format == "csv") {
        const ExportResult all = export_matches(searcher, req);
        std::cout << export_csv(all);
        if (all.truncated()) std::cerr << "yosan-search: " << all.sheets.size() << " 件で打ち切りました（該当 " << all.total << " 件）\n";
        return 0;
    }
    if (format != "text" && format != "json") throw UsageError("--format は text, json, csv のいずれかです: " + format, "--format");
    json = json || format == "json";
    SearchResult r = searcher.search(req);
    if (json) std::cout << to_json(r).dump(2) << "\n";
    else print_text(r, req.query, std::cout);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return run_guarded("yosan-search", [&] {
        if (argc > 1 && std::string(argv[1]) == "serve") return run_server(argc - 1, argv + 1);
        return run_search(argc, argv);
    });
}
