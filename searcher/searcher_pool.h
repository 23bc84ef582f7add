// Searchers to lend to request threads. A Searcher is not thread safe and opening a database costs a few
// file opens, so handles are reused; the pool grows to the number of requests served at once.
//
// Thread safe.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "searcher/searcher.h"

namespace yosan {

class SearcherPool {
public:
    SearcherPool(const Config& c, const Analyzer& a, const BureauDirectory& b, const Synonyms& s)
        : config_(c), analyzer_(a), bureaus_(b), synonyms_(s) {}

    // A borrowed Searcher, given back when the lease ends.
    class Lease {
    public:
        Lease(SearcherPool& pool, std::unique_ptr<Searcher> s) : pool_(pool), searcher_(std::move(s)) {}
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease() { pool_.give_back(std::move(searcher_)); }
        Searcher& operator*() { return *searcher_; }
        Searcher* operator->() { return searcher_.get(); }

    private:
        SearcherPool& pool_;
        std::unique_ptr<Searcher> searcher_;
    };

    Lease acquire() {
        {
            std::lock_guard lock(mutex_);
            if (!idle_.empty()) {
                std::unique_ptr<Searcher> s = std::move(idle_.back());
                idle_.pop_back();
                return Lease(*this, std::move(s));
            }
        }
        return Lease(*this, std::make_unique<Searcher>(config_, analyzer_, bureaus_, synonyms_));
    }

private:
    void give_back(std::unique_ptr<Searcher> s) {
        if (!s) return;
        std::lock_guard lock(mutex_);
        idle_.push_back(std::move(s));
    }
    const Config& config_;
    const Analyzer& analyzer_;
    const BureauDirectory& bureaus_;
    const Synonyms& synonyms_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<Searcher>> idle_;
};

}  // namespace yosan
