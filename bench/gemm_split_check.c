// Does splitting a GEMM into row blocks change its result? pd_sgemm (Sources/CLibraries/CKernels/gemm.c)
// splits C's rows across threads; a result independent of the thread count needs every split call to
// reproduce the unsplit one bit for bit. Usage: gemm_split_check ALIGN (rows per block unit); prints how
// many of the splits (2-5 parts, many shapes and transposes) differ. `make gemm-split-check`.
// Splits pd_sgemm would not make are skipped: parts whose M·N·K is at most 100³, where OpenBLAS's
// SkylakeX kernels switch to their small-matrix path (PD_GEMM_SMALL_PATH_MNK in gemm.c).
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
static void call(int ta,int tb,int m,int n,int k,const float*a,int lda,const float*b,int ldb,float*c,int ldc){
  cblas_sgemm(CblasRowMajor, ta?CblasTrans:CblasNoTrans, tb?CblasTrans:CblasNoTrans, m,n,k,1.0f,a,lda,b,ldb,0.0f,c,ldc);}
int main(int argc,char**argv){
  int align=atoi(argv[1]); openblas_set_num_threads(1);
  int ms[]={96,100,256,512,1000,2048}, ns[]={2,17,64,128,256,600}, ks[]={2,17,128,512};
  int bad=0,total=0;
  for(int t=0;t<4;t++) for(int mi=0;mi<6;mi++) for(int ni=0;ni<6;ni++) for(int ki=0;ki<4;ki++){
    int ta=t&1,tb=t>>1,m=ms[mi],n=ns[ni],k=ks[ki];
    float*a=malloc(4*m*k),*b=malloc(4*k*n),*c1=calloc(m*n,4),*c2=calloc(m*n,4);
    for(int i=0;i<m*k;i++)a[i]=rand()/(float)RAND_MAX-0.5f; for(int i=0;i<k*n;i++)b[i]=rand()/(float)RAND_MAX-0.5f;
    int lda=ta?m:k, ldb=tb?k:n, ldc=n;
    call(ta,tb,m,n,k,a,lda,b,ldb,c1,ldc);
    for(int parts=2;parts<=5;parts++){
      int blocks=(m+align-1)/align;
      { int minrows=m; for(int p=0;p<parts;p++){int lo=(int)((long)blocks*p/parts)*align, hi=(int)((long)blocks*(p+1)/parts)*align; if(hi>m)hi=m; if(hi>lo && hi-lo<minrows) minrows=hi-lo;}
        if((double)minrows*n*k<=1e6) continue; }
      for(int p=0;p<parts;p++){int lo=(int)((long)blocks*p/parts)*align, hi=(int)((long)blocks*(p+1)/parts)*align; if(hi>m)hi=m; if(hi<=lo)continue;
        const float*aa=ta?a+lo:a+lo*lda; call(ta,tb,hi-lo,n,k,aa,lda,b,ldb,c2+lo*ldc,ldc);}
      int diff=0; for(int i=0;i<m*n;i++) if(c1[i]!=c2[i]) diff++;
      total++; if(diff){bad++; if(bad<6) printf("ta%d tb%d m%d n%d k%d parts%d: %d differ\n",ta,tb,m,n,k,parts,diff);}
    }
    free(a);free(b);free(c1);free(c2);
  }
  printf("align %d: %d of %d splits differ\n",align,bad,total);
}
