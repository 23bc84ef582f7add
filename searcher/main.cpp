// yosan-search: ranked, faceted search over the budget-sheet index, on the command line (text or JSON).
// `yosan-search serve` starts the HTTP JSON API and the web page.
//
// Exit status: 0 for any answered query (zero hits included); 2 for a usage error; 1 for anything else
// (a missing index, say).
#include <iostream>

#include <boost/program_options.hpp>

#include "core/bureaus.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "searcher/searcher.h"
#include "searcher/server.h"

namespace po = boost::program_options;
using namespace yosan;

namespace {

std::string era_year(int y) { return y >= 2019 ? "令和" + std::to_string(y - 2018) + "年度" : "平成" + std::to_string(y - 1988) + "年度"; }

void print_text(const SearchResult& r, const std::string& query, std::ostream& out) {
    out << r.total << " 件";
    if (!query.empty()) out << "（検索語: " << query << "）";
    out << "  " << static_cast<int>(r.milliseconds * 10) / 10.0 << " ms\n";
    for (const RecognisedFilter& f : r.recognised) out << "  条件として解釈: " << f.text << " → " << f.field << "=" << f.value << "\n";
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
    const std::pair<const char*, const char*> names[] = {
        {"bureau", "局・庁"}, {"division", "課・室"}, {"year", "年度"}, {"kind", "予算区分"}, {"bucket", "金額帯"}};
    out << "\n絞り込み（件数）\n";
    for (const auto& [key, label] : names) {
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
    std::string config_path, index_path, sort = "relevance", amount_min, amount_max;
    std::vector<std::string> bureaus, years, kinds;
    std::vector<int> buckets;
    unsigned limit = 10, offset = 0;
    bool json = false;
    opts.add_options()
        ("help,h", "show this help")
        ("config,c", po::value(&config_path)->default_value(default_config_path()), "config file (TOML)")
        ("index,i", po::value(&index_path), "index directory (overrides the config)")
        ("bureau,b", po::value(&bureaus)->composing(), "filter: a top unit (製造産業局) or a division (自動車課); repeatable")
        ("year,y", po::value(&years)->composing(), "filter: fiscal year, 2025 or 令和7; repeatable")
        ("kind,k", po::value(&kinds)->composing(), "filter: 当初, 補正, 予備費 or 要求; repeatable")
        ("amount-min", po::value(&amount_min), "filter: at least this amount (10億, 500百万, 3000万, 1e9)")
        ("amount-max", po::value(&amount_max), "filter: at most this amount")
        ("bucket", po::value(&buckets)->composing(), "filter: amount bucket number (0 = smallest); repeatable")
        ("sort,s", po::value(&sort), "relevance | amount | -amount | year | -year")
        ("limit,n", po::value(&limit), "hits per page (at most 200)")
        ("offset", po::value(&offset), "skip this many hits")
        ("json", po::bool_switch(&json), "print JSON instead of text")
        ("query", po::value<std::vector<std::string>>()->multitoken(), "query words");
    po::positional_options_description pos;
    pos.add("query", -1);
    po::variables_map vm;
    if (!parse_command_line(argc, argv, opts, &pos, vm)) return 0;
    SearchRequest req;
    if (vm.count("query"))
        for (const std::string& w : vm["query"].as<std::vector<std::string>>()) req.query += (req.query.empty() ? "" : " ") + w;
    req.filters.bureaus = bureaus;
    for (const std::string& y : years) {
        auto v = parse_fiscal_year(y);
        if (!v) throw UsageError("年度は 2025 か 令和7 の形で指定してください: " + y, "--year");
        req.filters.years.push_back(*v);
    }
    for (const std::string& k : kinds) {
        auto v = parse_kind(k);
        if (!v) throw UsageError("予算区分は 当初・補正・予備費・要求 のいずれかです: " + k, "--kind");
        req.filters.kinds.push_back(*v);
    }
    for (const auto& [text, target, flag] : {std::tuple{amount_min, &req.filters.amount_min, "--amount-min"},
                                             std::tuple{amount_max, &req.filters.amount_max, "--amount-max"}}) {
        if (text.empty()) continue;
        auto v = parse_yen(text);
        if (!v) throw UsageError("金額は 10億, 500百万, 3000万, 1e9 のように指定してください: " + text, flag);
        *target = *v;
    }
    if (req.filters.amount_max) *req.filters.amount_max += 1;  // --amount-max is inclusive
    req.filters.buckets = buckets;
    req.sort = parse_sort(sort);
    req.limit = limit;
    req.offset = offset;

    const Config config = load_config(config_path, index_path);
    for (int b : buckets)
        if (b < 0 || b >= config.buckets.count())
            throw UsageError("金額帯の番号は 0〜" + std::to_string(config.buckets.count() - 1) + " です", "--bucket");
    const Analyzer analyzer(config.analysis);
    const BureauDirectory directory = config.bureaus_path.empty() ? BureauDirectory{} : BureauDirectory::load(config.bureaus_path);
    const Synonyms synonyms = Synonyms::load(config.synonyms_path, analyzer);
    Searcher searcher(config, analyzer, directory, synonyms);
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
