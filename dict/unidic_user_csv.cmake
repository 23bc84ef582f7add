# Converts dict/user.csv ("surface,reading" or "surface,reading,pieces") into a UniDic lexicon CSV for
# mecab-dict-index.
# Usage: cmake -DIN=user.csv -DOUT=user-unidic.csv -P unidic_user_csv.cmake
#
# Every entry is a common noun with the connection ids of クレジット (名詞,普通名詞,一般) and a low cost so
# that the whole word wins over MeCab's split. Field 26 (aModType) carries the marker "yosan-user", which
# the analyser uses to index the word's parts as well; "yosan-user-pieces" when the entry's third field is
# "pieces" (its katakana pieces are indexed too: core/analyzer.cpp).
file(STRINGS "${IN}" lines ENCODING UTF-8)
set(out "")
foreach(line IN LISTS lines)
  string(STRIP "${line}" line)
  if(line STREQUAL "" OR line MATCHES "^#")
    continue()
  endif()
  string(REPLACE "," ";" fields "${line}")
  list(LENGTH fields n)
  set(marker yosan-user)
  if(n EQUAL 3)
    list(GET fields 2 flag)
    if(NOT flag STREQUAL "pieces")
      message(FATAL_ERROR "${IN}: the third field can only be \"pieces\": ${line}")
    endif()
    set(marker yosan-user-pieces)
  elseif(NOT n EQUAL 2)
    message(FATAL_ERROR "${IN}: expected \"surface,reading\" or \"surface,reading,pieces\": ${line}")
  endif()
  list(GET fields 0 surface)
  list(GET fields 1 reading)
  string(TOLOWER "${surface}" surface)
  # surface,left,right,cost, pos1-4, cType,cForm, lForm,lemma,orth,pron,orthBase,pronBase, goshu,
  # iType,iForm,fType,fForm,iConType,fConType, type, kana,kanaBase,form,formBase, aType,aConType,aModType, lid,lemma_id
  string(APPEND out "${surface},12894,1238,-8000,名詞,普通名詞,一般,*,*,*,${reading},${surface},${surface},${reading},${surface},${reading},混,*,*,*,*,*,*,体,${reading},${reading},${reading},${reading},*,C1,${marker},0,0\n")
endforeach()
file(WRITE "${OUT}" "${out}")
